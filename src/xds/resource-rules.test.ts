import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { envoyRoot } from './protos.js';
import { ResourceRuleCache, SUPPORTED_RULES, checkResource, type CheckedResource } from './resource-rules.js';
import { CLUSTER_TYPE, LISTENER_TYPE, ROUTE_TYPE } from './type-urls.js';

type Json = Record<string, unknown>;

function cluster(extra: Json = {}): Json {
  return { name: 'predict_blue', type: 'EDS', eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } }, connect_timeout: '2s', ...extra };
}

function healthCheck(extra: Json = {}): Json {
  return { timeout: '1s', interval: '5s', unhealthy_threshold: 2, healthy_threshold: 1, http_health_check: { path: '/healthz' }, ...extra };
}

function route(extra: Json = {}): Json {
  return { name: 'predict_split', match: { prefix: '/predict' }, route: { cluster: 'predict_blue' }, ...extra };
}

function routes(...list: Json[]): Json {
  return { name: 'default', virtual_hosts: [{ name: 'all', domains: ['*'], routes: list }] };
}

function listener(hcm: Json): Json {
  return {
    name: 'default',
    address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'default',
              rds: { route_config_name: 'default', config_source: { ads: {}, resource_api_version: 'V3' } },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
              ...hcm,
            },
          },
        ],
      },
    ],
  };
}

const HCM_PATH = '/filter_chains/0/filters/0/typed_config';

function rulesBroken(typeUrl: string, resource: Json): { path: string; rule: string }[] {
  return checkResource(typeUrl, 'r', resource).map(({ path, rule }) => ({ path, rule }));
}

describe('resource rules: the valid bases are clean', () => {
  it.each([
    ['cluster', CLUSTER_TYPE, cluster({ health_checks: [healthCheck()] })],
    ['route configuration', ROUTE_TYPE, routes(route())],
    ['listener', LISTENER_TYPE, listener({})],
  ])('%s', (_name, typeUrl, resource) => {
    expect(checkResource(typeUrl, 'r', resource)).toEqual([]);
  });
});

describe('resource rules: one rule kind each', () => {
  it.each<[string, string, Json, { path: string; rule: string }]>([
    ['string.min_len on a field left out', CLUSTER_TYPE, { ...cluster(), name: undefined }, { path: '/name', rule: 'string.min_len' }],
    ['string.min_len on an empty string', ROUTE_TYPE, routes(route({ match: { prefix: '/', headers: [{ name: '', present_match: true }] } })), { path: '/virtual_hosts/0/routes/0/match/headers/0/name', rule: 'string.min_len' }],
    ['string.max_bytes', ROUTE_TYPE, routes(route({ response_headers_to_add: [{ header: { key: 'x', value: 'é'.repeat(8193) } }] })), { path: '/virtual_hosts/0/routes/0/response_headers_to_add/0/header/value', rule: 'string.max_bytes' }],
    ['string.pattern', ROUTE_TYPE, routes(route({ match: { path_separated_prefix: '/api/' } })), { path: '/virtual_hosts/0/routes/0/match/path_separated_prefix', rule: 'string.pattern' }],
    ['string.well_known_regex HTTP_HEADER_VALUE (lax: NUL)', CLUSTER_TYPE, cluster({ health_checks: [healthCheck({ http_health_check: { path: '/health\u0000z' } })] }), { path: '/health_checks/0/http_health_check/path', rule: 'string.well_known_regex' }],
    ['string.well_known_regex HTTP_HEADER_NAME (lax: LF)', ROUTE_TYPE, routes(route({ match: { prefix: '/', headers: [{ name: 'x\nb', present_match: true }] } })), { path: '/virtual_hosts/0/routes/0/match/headers/0/name', rule: 'string.well_known_regex' }],
    ['string.in', LISTENER_TYPE, listener({ scheme_header_transformation: { scheme_to_overwrite: 'ftp' } }), { path: `${HCM_PATH}/scheme_header_transformation/scheme_to_overwrite`, rule: 'string.in' }],
    ['uint32.lte', CLUSTER_TYPE, cluster({ type: 'STATIC', eds_cluster_config: undefined, load_assignment: { cluster_name: 'c', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 70000 } } } }] }] } }), { path: '/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/port_value', rule: 'uint32.lte' }],
    ['uint32.gte+lt', ROUTE_TYPE, routes({ name: 'pin', match: { prefix: '/' }, direct_response: { status: 600 } }), { path: '/virtual_hosts/0/routes/0/direct_response/status', rule: 'uint32.gte+uint32.lt' }],
    ['uint64.lte (as a decimal string)', CLUSTER_TYPE, cluster({ lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: '8388609' } }), { path: '/ring_hash_lb_config/minimum_ring_size', rule: 'uint64.lte' }],
    ['uint32 in a wrapper', CLUSTER_TYPE, cluster({ outlier_detection: { max_ejection_percent: 101 } }), { path: '/outlier_detection/max_ejection_percent', rule: 'uint32.lte' }],
    ['double.gte+lte', CLUSTER_TYPE, cluster({ common_lb_config: { healthy_panic_threshold: { value: 100.5 } } }), { path: '/common_lb_config/healthy_panic_threshold/value', rule: 'double.gte+double.lte' }],
    ['duration.gt', CLUSTER_TYPE, cluster({ health_checks: [healthCheck({ interval: '0s' })] }), { path: '/health_checks/0/interval', rule: 'duration.gt' }],
    ['duration.gt (in nanoseconds)', CLUSTER_TYPE, cluster({ dns_refresh_rate: '0.001s' }), { path: '/dns_refresh_rate', rule: 'duration.gt' }],
    ['duration.required', CLUSTER_TYPE, cluster({ health_checks: [{ ...healthCheck(), timeout: undefined }] }), { path: '/health_checks/0/timeout', rule: 'duration.required' }],
    ['envoy.duration_range: INT64_MAX nanoseconds', ROUTE_TYPE, routes(route({ route: { cluster: 'c', timeout: '9223372036s' } })), { path: '/virtual_hosts/0/routes/0/route/timeout', rule: 'envoy.duration_range' }],
    ['envoy.duration_range: negative', ROUTE_TYPE, routes(route({ route: { cluster: 'c', timeout: '-0.5s' } })), { path: '/virtual_hosts/0/routes/0/route/timeout', rule: 'envoy.duration_range' }],
    ['enum.defined_only', CLUSTER_TYPE, cluster({ lb_policy: 42 }), { path: '/lb_policy', rule: 'enum.defined_only' }],
    ['enum.not_in', CLUSTER_TYPE, cluster({ health_checks: [healthCheck({ http_health_check: { path: '/healthz', method: 'CONNECT' } })] }), { path: '/health_checks/0/http_health_check/method', rule: 'enum.not_in' }],
    ['message.required', CLUSTER_TYPE, cluster({ health_checks: [{ ...healthCheck(), healthy_threshold: undefined }] }), { path: '/health_checks/0/healthy_threshold', rule: 'message.required' }],
    ['oneof.required', ROUTE_TYPE, routes({ name: 'no-action', match: { prefix: '/' } }), { path: '/virtual_hosts/0/routes/0', rule: 'oneof.required' }],
    ['repeated.min_items', ROUTE_TYPE, { name: 'default', virtual_hosts: [{ name: 'none', domains: [] }] }, { path: '/virtual_hosts/0/domains', rule: 'repeated.min_items' }],
    ['repeated.max_items', ROUTE_TYPE, routes(route({ response_headers_to_add: Array.from({ length: 1001 }, (_, i) => ({ header: { key: `x-${i}`, value: 'v' } })) })), { path: '/virtual_hosts/0/routes/0/response_headers_to_add', rule: 'repeated.max_items' }],
    ['repeated.items', ROUTE_TYPE, { name: 'default', virtual_hosts: [{ name: 'crlf', domains: ['a.example', 'b.example\r\n'] }] }, { path: '/virtual_hosts/0/domains/1', rule: 'string.well_known_regex' }],
    ['repeated.unique', ROUTE_TYPE, routes(route({ route: { cluster: 'c', internal_redirect_policy: { response_headers_to_copy: ['x-a', 'x-a'] } } })), { path: '/virtual_hosts/0/routes/0/route/internal_redirect_policy/response_headers_to_copy/1', rule: 'repeated.unique' }],
    ['map keys', CLUSTER_TYPE, cluster({ metadata: { filter_metadata: { '': {} } } }), { path: '/metadata/filter_metadata/', rule: 'string.min_len' }],
    ['any.required', CLUSTER_TYPE, cluster({ load_balancing_policy: { policies: [{ typed_extension_config: { name: 'rr' } }] } }), { path: '/load_balancing_policy/policies/0/typed_extension_config/typed_config', rule: 'any.required' }],
    ['inside an Any', LISTENER_TYPE, listener({ stat_prefix: '' }), { path: `${HCM_PATH}/stat_prefix`, rule: 'string.min_len' }],
    ['utf8: a lone surrogate', ROUTE_TYPE, routes(route({ match: { prefix: '/\ud800' } })), { path: '/virtual_hosts/0/routes/0/match/prefix', rule: 'utf8' }],
    ['utf8 inside a Struct', CLUSTER_TYPE, cluster({ metadata: { filter_metadata: { sluice: { note: 'x\udc00' } } } }), { path: '/metadata/filter_metadata/sluice/note', rule: 'utf8' }],
  ])('%s', (_name, typeUrl, resource, expected) => {
    const cleaned = JSON.parse(JSON.stringify(resource)) as Json;
    expect(rulesBroken(typeUrl, cleaned)).toEqual([expected]);
  });

  it('reports the resource, the value and what the rule demands', () => {
    const [violation] = checkResource(CLUSTER_TYPE, 'predict_blue', cluster({ health_checks: [healthCheck({ interval: '999999999999s' })] }));
    expect(violation).toEqual({
      typeUrl: CLUSTER_TYPE,
      resourceName: 'predict_blue',
      path: '/health_checks/0/interval',
      rule: 'envoy.duration_range',
      value: '999999999999s',
      message: expect.stringMatching(/at most 9223372035\.999999999s/),
    });
  });

  it('accepts the largest duration Envoy takes', () => {
    expect(rulesBroken(ROUTE_TYPE, routes(route({ route: { cluster: 'c', timeout: '9223372035.999999999s' } })))).toEqual([]);
  });

  it('reads a lower bound above the upper one as "outside the range", for any number kind', () => {
    const root = protobuf.parse(
      'syntax = "proto3"; package t; message M { sint64 n = 1 [(validate.rules).sint64 = {lt: -10, gt: 10}]; float f = 2 [(validate.rules).float = {lte: 0.5, gte: 1.5}]; }',
      { keepCase: true },
    ).root;
    const broken = (value: Json): string[] => checkResource('type.googleapis.com/t.M', 'm', value, root).map((v) => v.rule);
    expect(broken({ n: -11, f: 0.5 })).toEqual([]);
    expect(broken({ n: '11', f: 1.5 })).toEqual([]);
    expect(broken({ n: 0, f: 1 })).toEqual(['sint64.gt+sint64.lt', 'float.gte+float.lte']);
  });

  it('honours ignore_empty and strict: false', () => {
    const sni = (value: string) => cluster({ upstream_http_protocol_options: { override_auto_sni_header: value } });
    expect(rulesBroken(CLUSTER_TYPE, sni(''))).toEqual([]);
    expect(rulesBroken(CLUSTER_TYPE, sni('x-sni'))).toEqual([]);
    // strict by default: a space is not a header-name character.
    expect(rulesBroken(CLUSTER_TYPE, sni('x sni'))).toEqual([{ path: '/upstream_http_protocol_options/override_auto_sni_header', rule: 'string.well_known_regex' }]);
    // strict: false lets a space through (only NUL, CR and LF are refused).
    expect(rulesBroken(ROUTE_TYPE, routes(route({ match: { prefix: '/', headers: [{ name: 'x y', present_match: true }] } })))).toEqual([]);
  });
});

describe('resource rules over sets of resources', () => {
  it('walks a resource again only when its content changed', () => {
    const walked: string[] = [];
    const cache = new ResourceRuleCache((typeUrl, name, resource) => {
      walked.push(name);
      return checkResource(typeUrl, name, resource);
    });
    const set = (timeout: string): CheckedResource[] => [
      { typeUrl: CLUSTER_TYPE, name: 'predict_blue', resource: cluster() },
      { typeUrl: ROUTE_TYPE, name: 'default', resource: routes(route({ route: { cluster: 'predict_blue', timeout } })) },
      { typeUrl: LISTENER_TYPE, name: 'default', resource: listener({}) },
    ];
    cache.check(set('30s'));
    expect(walked).toEqual(['predict_blue', 'default', 'default']);
    walked.length = 0;
    cache.check(set('30s'));
    expect(walked).toEqual([]);
    expect(cache.check(set('-1s'))).toEqual([
      expect.objectContaining({ typeUrl: ROUTE_TYPE, name: 'default', violations: [expect.objectContaining({ rule: 'envoy.duration_range' })] }),
    ]);
    expect(walked).toEqual(['default']);
    walked.length = 0;
    // The two latest checks stay cached: going back to the previous content walks nothing.
    cache.check(set('30s'));
    expect(walked).toEqual([]);
  });

  it('remembers routes by content: a route seen before reports its violation at its new place and resource', () => {
    const cache = new ResourceRuleCache();
    const broken = route({ name: 'broken', route: { cluster: 'c', timeout: '-1s' } });
    const first = cache.check([{ typeUrl: ROUTE_TYPE, name: 'a', resource: routes(route(), broken) }]);
    expect(first[0]?.violations.map((v) => [v.resourceName, v.path])).toEqual([['a', '/virtual_hosts/0/routes/1/route/timeout']]);
    const moved = cache.check([{ typeUrl: ROUTE_TYPE, name: 'b', resource: routes(route({ name: 'new' }), route({ name: 'other' }), broken) }]);
    expect(moved[0]?.violations.map((v) => [v.resourceName, v.path])).toEqual([['b', '/virtual_hosts/0/routes/2/route/timeout']]);
  });

  it('understands every rule the schema puts on the messages sluice emits', () => {
    const root = envoyRoot();
    const unknown = new Set<string>();
    const seen = new Set<string>();
    const visit = (type: protobuf.Type): void => {
      if (seen.has(type.fullName)) return;
      seen.add(type.fullName);
      for (const field of type.fieldsArray) {
        for (const option of (field.parsedOptions ?? []) as Record<string, unknown>[]) {
          const rules = option['(validate.rules)'] as Record<string, Record<string, unknown>> | undefined;
          for (const [kind, kindRules] of Object.entries(rules ?? {})) collect(kind, kindRules);
        }
        if (field.resolvedType instanceof protobuf.Type) visit(field.resolvedType);
      }
    };
    const collect = (kind: string, kindRules: Record<string, unknown>): void => {
      for (const [rule, value] of Object.entries(kindRules)) {
        if (!SUPPORTED_RULES[kind]?.includes(rule)) unknown.add(`${kind}.${rule}`);
        if ((kind === 'repeated' && rule === 'items') || (kind === 'map' && (rule === 'keys' || rule === 'values'))) {
          for (const [innerKind, innerRules] of Object.entries(value as Record<string, Record<string, unknown>>)) collect(innerKind, innerRules);
        }
      }
    };
    for (const name of [
      'envoy.config.listener.v3.Listener',
      'envoy.config.route.v3.RouteConfiguration',
      'envoy.config.cluster.v3.Cluster',
      'envoy.config.endpoint.v3.ClusterLoadAssignment',
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      'envoy.extensions.filters.http.router.v3.Router',
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      'envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash',
      'envoy.extensions.load_balancing_policies.maglev.v3.Maglev',
    ]) {
      visit(root.lookupType(name));
    }
    expect(seen.size).toBeGreaterThan(100);
    expect([...unknown]).toEqual([]);
  });
});
