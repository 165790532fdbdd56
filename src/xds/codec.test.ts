import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, encodeResource, EncodeError, parseProtoDuration } from './codec.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from './type-urls.js';

const hcm = {
  '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  stat_prefix: 'ingress',
  rds: { route_config_name: 'r', config_source: { ads: {}, resource_api_version: 'V3' } },
  http_filters: [
    { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
  ],
};

describe('codec', () => {
  it('round-trips a listener with nested Any, durations and enums', () => {
    const listener = {
      name: 'l',
      address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
      filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }],
    };
    const decoded = decodeMessage('envoy.config.listener.v3.Listener', encodeResource(LISTENER_TYPE, listener));
    expect(decoded).toEqual(listener);
  });

  it('encodes durations and wrappers from their JSON forms', () => {
    const bytes = encodeResource(CLUSTER_TYPE, { name: 'c', connect_timeout: '1.5s', per_connection_buffer_limit_bytes: 1024 });
    expect(decodeMessage('envoy.config.cluster.v3.Cluster', bytes)).toEqual({
      name: 'c',
      connect_timeout: { seconds: 1, nanos: 500_000_000 },
      per_connection_buffer_limit_bytes: { value: 1024 },
    });
  });

  it('rejects an unknown field with its path instead of dropping it', () => {
    expect(() => encodeResource(CLUSTER_TYPE, { name: 'c', conect_timeout: '1s' })).toThrow(/\/conect_timeout: Cluster has no field/);
    expect(() =>
      encodeResource(LISTENER_TYPE, { name: 'l', filter_chains: [{ filters: [{ name: 'x', typed_config: { ...hcm, statPrefix: 'x' } }] }] }),
    ).toThrow(EncodeError);
  });

  it('rejects camelCase names, wrong types, bad enums and two members of one oneof', () => {
    expect(() => encodeResource(CLUSTER_TYPE, { name: 'c', connectTimeout: '1s' })).toThrow(/no field "connectTimeout"/);
    expect(() => encodeResource(CLUSTER_TYPE, { name: 7 })).toThrow(/\/name: expected a string/);
    expect(() => encodeResource(CLUSTER_TYPE, { name: 'c', type: 'EDSS' })).toThrow(/"EDSS" is not a value/);
    expect(() => encodeResource(CLUSTER_TYPE, { name: 'c', connect_timeout: 30 })).toThrow(/duration/);
    expect(() => encodeResource(CLUSTER_TYPE, { name: 'c', type: 'EDS', cluster_type: { name: 'x' } })).toThrow(/oneof/);
  });

  it('rejects an Any whose type is not loaded rather than sending an empty one', () => {
    expect(() => encodeMessage('google.protobuf.Any', { '@type': 'type.googleapis.com/no.such.Type' })).toThrow(/not loaded/);
  });

  it('parses proto3 JSON durations exactly', () => {
    expect(parseProtoDuration('0.000000001s')).toEqual({ seconds: 0, nanos: 1 });
    expect(parseProtoDuration('120s')).toEqual({ seconds: 120, nanos: 0 });
    expect(() => parseProtoDuration('2m')).toThrow(EncodeError);
  });
});

describe('schema overlay', () => {
  it('encodes use_hash_policy (Envoy 1.36) as field 5 of WeightedCluster, in its oneof', () => {
    const route = {
      name: 'r',
      virtual_hosts: [
        {
          name: 'v',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/' },
              route: {
                hash_policy: [{ header: { header_name: 'x-user-id' } }],
                weighted_clusters: { use_hash_policy: true, clusters: [{ name: 'a', weight: 1 }] },
              },
            },
          ],
        },
      ],
    };
    const bytes = encodeResource('type.googleapis.com/envoy.config.route.v3.RouteConfiguration', route);
    const decoded = decodeMessage('envoy.config.route.v3.RouteConfiguration', bytes) as any;
    expect(decoded.virtual_hosts[0].routes[0].route.weighted_clusters.use_hash_policy).toEqual({ value: true });
    // Field 5, wire type 2 (a BoolValue message): tag byte 0x2a, then length 2, then {1: true}.
    expect(Buffer.from(bytes).includes(Buffer.from([0x2a, 0x02, 0x08, 0x01]))).toBe(true);
    expect(() =>
      encodeResource('type.googleapis.com/envoy.config.route.v3.RouteConfiguration', {
        name: 'r',
        virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { weighted_clusters: { use_hash_policy: true, header_name: 'x', clusters: [] } } }] }],
      }),
    ).toThrow(/oneof/);
  });
});
