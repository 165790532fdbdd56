// Listener and RouteConfiguration resources for proxyless gRPC clients: per service, an API
// listener named after it (what a channel to `xds:///<service>` asks for) whose connection manager
// takes the service's routes from RDS over ADS. Never for Envoy, which would try to bind it.

import { parseDuration } from '../model/duration.js';
import type { Service } from '../model/types.js';
import { apiListenerName, apiRouteConfigName, clusterName, pinRouteName, splitRouteName, virtualHostName } from './names.js';
import { durationJson, type NamedResource, type ResourceJson } from './resources.js';
import { integerWeights } from './weights.js';
import { ADS, configSourceJson } from './config-source.js';

const ADS_CONFIG_SOURCE = configSourceJson(ADS);
/** gRPC accepts only a connection manager whose last (here: only) filter is the router. */
const ROUTER_FILTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};
/** The channel already names the service, so every method on it is the service's. */
const ALL_METHODS = '/';
const ALL_AUTHORITIES = ['*'];

export function buildApiListener(service: Service): NamedResource {
  const name = apiListenerName(service.name);
  return {
    name,
    resource: {
      name,
      api_listener: {
        api_listener: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          rds: { route_config_name: apiRouteConfigName(service.name), config_source: ADS_CONFIG_SOURCE },
          http_filters: [ROUTER_FILTER],
        },
      },
    },
  };
}

/**
 * Pin routes, then the weighted split, as for Envoy. gRPC ignores RouteAction.timeout, response
 * header mutations and retry conditions that are not gRPC status codes, so the timeout travels as
 * max_stream_duration ("0s": the caller's deadline alone) and the others are left out.
 */
export function buildApiRouteConfiguration(service: Service): NamedResource {
  const name = apiRouteConfigName(service.name);
  const limits = { max_stream_duration: { max_stream_duration: durationJson(parseDuration(service.timeout)) } };
  const pins: ResourceJson[] = service.versions.map((version) => ({
    name: pinRouteName(service.name, version.name),
    match: { prefix: ALL_METHODS, headers: [{ name: service.pinHeader, string_match: { exact: version.name } }] },
    route: { cluster: clusterName(service.name, version.name), ...limits },
  }));
  const split: ResourceJson = {
    name: splitRouteName(service.name),
    match: { prefix: ALL_METHODS },
    route: {
      ...limits,
      weighted_clusters: {
        clusters: integerWeights(service).map(({ version, weight }) => ({ name: clusterName(service.name, version), weight })),
      },
    },
  };
  return {
    name,
    resource: {
      name,
      virtual_hosts: [{ name: virtualHostName(ALL_AUTHORITIES), domains: ALL_AUTHORITIES, routes: [...pins, split] }],
    },
  };
}
