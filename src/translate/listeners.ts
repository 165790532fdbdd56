// Listener resources: one per desired listener, an HTTP connection manager that takes its
// routes from RDS (over ADS, or a per-type stream). Weights never live here: a listener change drains connections.

import type { Listener } from '../model/types.js';
import { configSourceJson, type ConfigSource } from './config-source.js';
import { listenerName, routeConfigName } from './names.js';
import type { NamedResource } from './resources.js';
import { shadowListenerFilter } from './shadow.js';


/**
 * Every listener carries the shadow collector's ext_proc filter, off unless a route turns it on:
 * starting or stopping a shadow then changes routes only, never the listener (whose change would
 * drain the connections users hold).
 */
export function buildListener(listener: Listener, configSource: ConfigSource): NamedResource {
  const name = listenerName(listener.name);
  return {
    name,
    resource: {
      name,
      address: { socket_address: { address: listener.address, port_value: listener.port } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type':
                  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                stat_prefix: name,
                codec_type: 'AUTO',
                rds: { route_config_name: routeConfigName(listener.name), config_source: configSourceJson(configSource) },
                http_filters: [
                  shadowListenerFilter(),
                  {
                    name: 'envoy.filters.http.router',
                    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                  },
                ],
              },
            },
          ],
        },
      ],
    },
  };
}
