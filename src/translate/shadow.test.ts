// The Envoy side of a shadow, as tables reasoned from the model: which route copies (the split's
// sampled twin, matched just before it, serving exactly as the split does), to which cluster (the
// candidate's endpoints with ext_proc upstream), and when nothing is copied at all (0 %, the
// candidate became stable): then no twin and no shadow cluster. The listener is the same with and
// without a shadow (its ext_proc filter is always there, off by default): no drain when one starts.

import { describe, expect, it } from 'vitest';
import { SHADOW_SERVICE_METADATA, SHADOW_SIDE_METADATA, type Service } from '../model/types.js';
import { XDS_CLUSTER_NAME } from './config-source.js';
import { predictService, stateOf } from './fixtures.test-support.js';
import type { ResourceJson } from './resources.js';
import { EXT_PROC_FILTER } from './shadow.js';
import { translate } from './translate.js';

const SHADOW: NonNullable<Service['shadow']> = { to: 'green', percent: 12.5, compare: { kind: 'json-equal' }, keep: 'answers' };

function routesOf(svc: Service): ResourceJson[] {
  return (translate(stateOf(svc)).routes[0]!.resource['virtual_hosts'] as { routes: ResourceJson[] }[])[0]!.routes;
}

function httpFilters(svc: Service): ResourceJson[] {
  const listener = translate(stateOf(svc)).listeners[0]!.resource;
  const chains = listener['filter_chains'] as { filters: { typed_config: ResourceJson }[] }[];
  return chains[0]!.filters[0]!.typed_config['http_filters'] as ResourceJson[];
}

describe('shadow translation', () => {
  it('puts a sampled twin of the split route just before it: same action, plus the copy and the user-side report', () => {
    const routes = routesOf(predictService({ shadow: SHADOW }));
    const split = routes.at(-1)!;
    const twin = routes.at(-2)!;
    expect(split['name']).toBe('predict_split');
    expect(twin['name']).toBe('predict_split_shadow');
    expect(twin['match']).toEqual({
      ...(split['match'] as object),
      runtime_fraction: { default_value: { numerator: 1250, denominator: 'TEN_THOUSAND' }, runtime_key: 'sluice.shadow.predict' },
    });
    const { request_mirror_policies: mirrors, ...twinAction } = twin['route'] as ResourceJson;
    expect(twinAction).toEqual(split['route']);
    expect(mirrors).toEqual([{ cluster: 'predict_green_shadow' }]);
    expect(split['typed_per_filter_config']).toBeUndefined();
    const perFilter = (twin['typed_per_filter_config'] as Record<string, ResourceJson>)[EXT_PROC_FILTER]!;
    expect(perFilter['disabled']).toBeUndefined();
    expect(((perFilter['config'] as ResourceJson)['overrides'] as ResourceJson)['grpc_initial_metadata']).toEqual([
      { key: SHADOW_SERVICE_METADATA, value: 'predict' },
      { key: SHADOW_SIDE_METADATA, value: 'user' },
    ]);
    // Pins and rules are never copied: only the routes before the twin, unchanged.
    expect(routes.slice(0, -2)).toEqual(routesOf(predictService()).slice(0, -1));
  });

  it("adds the candidate's copy cluster: its endpoints, no health checks, ext_proc then the codec upstream", () => {
    const svc = predictService({
      shadow: SHADOW,
      healthCheck: { path: '/healthz', interval: '5s', timeout: '1s', unhealthyThreshold: 2, healthyThreshold: 1 },
    });
    const clusters = translate(stateOf(svc)).clusters;
    const green = clusters.find((c) => c.name === 'predict_green')!.resource;
    const copy = clusters.find((c) => c.name === 'predict_green_shadow')!.resource;
    expect(green['health_checks']).toBeDefined();
    expect(copy['health_checks']).toBeUndefined();
    expect(copy['eds_cluster_config']).toEqual(green['eds_cluster_config']);
    const options = (copy['typed_extension_protocol_options'] as Record<string, ResourceJson>)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']!;
    const greenOptions = (green['typed_extension_protocol_options'] as Record<string, ResourceJson>)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']!;
    expect(options['explicit_http_config']).toEqual(greenOptions['explicit_http_config']);
    const filters = options['http_filters'] as ResourceJson[];
    expect(filters.map((f) => f['name'])).toEqual([EXT_PROC_FILTER, 'envoy.filters.http.upstream_codec']);
    const processor = filters[0]!['typed_config'] as ResourceJson;
    expect(processor['observability_mode']).toBe(true);
    expect(processor['failure_mode_allow']).toBe(true);
    expect(processor['grpc_service']).toEqual({
      envoy_grpc: { cluster_name: XDS_CLUSTER_NAME },
      initial_metadata: [
        { key: SHADOW_SERVICE_METADATA, value: 'predict' },
        { key: SHADOW_SIDE_METADATA, value: 'candidate' },
      ],
    });
  });

  it('leaves the listener as it is: the ext_proc filter, off by default, before the router, with or without a shadow', () => {
    const filters = httpFilters(predictService({ shadow: SHADOW }));
    expect(filters.map((f) => [f['name'], f['disabled']])).toEqual([
      [EXT_PROC_FILTER, true],
      ['envoy.filters.http.router', undefined],
    ]);
    expect(translate(stateOf(predictService({ shadow: SHADOW }))).listeners).toEqual(translate(stateOf(predictService())).listeners);
  });

  it.each([
    ['no shadow', undefined, 'blue'],
    ['a shadow at 0 %', { ...SHADOW, percent: 0 }, 'blue'],
    ['a shadow whose candidate became the stable version', SHADOW, 'green'],
  ])('copies nothing with %s: no twin, no copy cluster', (_name, shadow, stable) => {
    const svc = predictService({ ...(shadow ? { shadow } : {}), stable });
    expect(routesOf(svc).map((r) => r['name'])).not.toContain('predict_split_shadow');
    expect(translate(stateOf(svc)).clusters.map((c) => c.name)).not.toContain('predict_green_shadow');
  });
});
