// Properties of a whole translation that make-before-break depends on, over random valid desired
// states (fast-check) and every flavour: a snapshot is pushed clusters → endpoints → listeners →
// routes, so everything a route names (a pinned, ruled or cohort version, every version of the
// weighted split including those at 0 %, the mirror target) must be a cluster of the same
// translation, every EDS cluster must have its assignment (Envoy keeps a cluster warming until it
// has), and every listener's RDS name must be a route configuration of the translation. The
// expected cluster names are derived from the model by hand (`<service>_<version>`), not read back
// from the translator's own name function.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AffinityBody, ServiceBody } from '../model/schema.js';
import type { DesiredState, Endpoint, Service } from '../model/types.js';
import { normalizeService, validateState } from '../model/validate.js';
import { XDS_CLUSTER_NAME } from './config-source.js';
import type { ResourceJson, TranslatedResources } from './resources.js';
import { translate, translateForGrpcClients } from './translate.js';

const VERSION_NAMES = ['blue', 'green', 'canary', 'v2'];
const ENDPOINTS: Endpoint[] = [
  { address: '10.0.0.1', port: 5001 },
  { address: '::1', port: 5002 },
  { address: 'model.svc.local', port: 8000 },
  { address: 'localhost', port: 8001 },
];
const AFFINITIES: (AffinityBody | undefined)[] = [
  undefined,
  { version: { by: 'header', name: 'x-user-id' } },
  { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }], lb: 'maglev' },
  { version: { by: 'cookie', name: 'uid' } },
  { version: { by: 'query', name: 'user' }, hash: [{ queryParameter: 'user' }] },
  { version: { by: 'sourceIp' } },
  { version: { by: 'cohortCookie', name: 'track', ttl: '2m' } },
  { version: { by: 'cohortCookie', name: 'track' }, hash: [{ cookie: 'replica', ttl: '1h' }] },
  { hash: [{ sourceIp: true }, { header: 'x-session' }], lb: 'ringHash' },
];

/** Weights over `names` in whole hundredths that sum to exactly 100. */
function splitOver(names: string[]): fc.Arbitrary<Record<string, number>> {
  return fc
    .array(fc.integer({ min: 0, max: 10_000 }), { minLength: names.length - 1, maxLength: names.length - 1 })
    .map((cuts) => {
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), 10_000];
      return Object.fromEntries(names.map((name, i) => [name, (bounds[i + 1]! - bounds[i]!) / 100]));
    });
}

function serviceBody(prefix: string): fc.Arbitrary<ServiceBody> {
  return fc.shuffledSubarray(VERSION_NAMES, { minLength: 1 }).chain((names) =>
    fc.record({
      listener: fc.constantFrom('default', 'internal'),
      match: fc.constant({ prefix }),
      hosts: fc.constantFrom(['*'], ['models.example.com', '*']),
      versions: fc.tuple(...names.map((name) => fc.subarray(ENDPOINTS, { minLength: 1 }).map((endpoints) => ({ name, endpoints })))),
      weights: splitOver(names),
      stable: fc.constantFrom(...names),
      timeout: fc.constantFrom('0s', '30s', '1.5s'),
      affinity: fc.constantFrom(...AFFINITIES),
      mirror: fc.option(fc.record({ to: fc.constantFrom(...names), percent: fc.integer({ min: 0, max: 10_000 }).map((h) => h / 100) }), {
        nil: undefined,
      }),
      rules: fc.option(fc.array(fc.record({ match: fc.constant({ headers: { 'x-tenant': 'acme' } }), to: fc.constantFrom(...names) }), { maxLength: 3 }), {
        nil: undefined,
      }),
    }),
  );
}

/** One to two services over two listeners (a third listener, on another port, carries none). */
const desiredState: fc.Arbitrary<DesiredState> = fc
  .record({ predict: fc.option(serviceBody('/predict'), { nil: undefined }), rank: fc.option(serviceBody('/rank'), { nil: undefined }) })
  .map(({ predict, rank }) => {
    const services: Record<string, Service> = {};
    if (predict) services['predict'] = normalizeService('predict', predict);
    if (rank) services['rank'] = normalizeService('rank', rank);
    const state: DesiredState = {
      revision: 1,
      listeners: {
        default: { name: 'default', address: '0.0.0.0', port: 8080 },
        internal: { name: 'internal', address: '127.0.0.1', port: 8081 },
        spare: { name: 'spare', address: '0.0.0.0', port: 9090 },
      },
      services,
    };
    validateState(state);
    return state;
  });

/** Every cluster a route sends or copies traffic to. */
function namedClusters(route: ResourceJson): string[] {
  const action = route['route'] as ResourceJson | undefined;
  if (!action) return []; // Envoy answers this one itself (an unknown pin's 400)
  const named: string[] = [];
  if (typeof action['cluster'] === 'string') named.push(action['cluster']);
  const weighted = action['weighted_clusters'] as { clusters: { name: string }[] } | undefined;
  for (const cluster of weighted?.clusters ?? []) named.push(cluster.name);
  const mirrors = action['request_mirror_policies'] as { cluster: string }[] | undefined;
  for (const mirror of mirrors ?? []) named.push(mirror.cluster);
  return named;
}

function routesOf(resources: TranslatedResources): ResourceJson[] {
  return resources.routes.flatMap(({ resource }) => (resource['virtual_hosts'] as { routes: ResourceJson[] }[]).flatMap((host) => host.routes));
}

/** The RDS name each listener asks for (a socket listener's connection manager, or gRPC's API listener). */
function rdsNames(resources: TranslatedResources): string[] {
  return resources.listeners.map(({ resource }) => {
    const api = resource['api_listener'] as { api_listener: { rds: { route_config_name: string } } } | undefined;
    if (api) return api.api_listener.rds.route_config_name;
    const chains = resource['filter_chains'] as { filters: { typed_config: { rds: { route_config_name: string } } }[] }[];
    return chains[0]!.filters[0]!.typed_config.rds.route_config_name;
  });
}

/** The facts every flavour shares, for the services it offers. */
function checkSelfContained(resources: TranslatedResources, offered: Service[]): void {
  const clusters = new Set(resources.clusters.map((c) => c.name));
  for (const route of routesOf(resources)) {
    for (const name of namedClusters(route)) expect(clusters, `route ${String(route['name'])} names ${name}`).toContain(name);
  }

  // Every version of every offered service has its cluster, whatever its weight; nothing else does.
  const expected = offered.flatMap((svc) => svc.versions.map((v) => `${svc.name}_${v.name}`)).sort();
  expect([...clusters].sort()).toEqual(expected);

  // EDS clusters and assignments pair up exactly.
  const eds = resources.clusters
    .filter(({ resource }) => resource['type'] === 'EDS')
    .map(({ name, resource }) => {
      expect((resource['eds_cluster_config'] as { service_name: string }).service_name).toBe(name);
      return name;
    });
  expect(resources.endpoints.map((e) => e.name)).toEqual(eds);

  const routeConfigs = new Set(resources.routes.map((r) => r.name));
  for (const name of rdsNames(resources)) expect(routeConfigs).toContain(name);

  // Each offered service's split: stable first, then the rest as declared; hundredths summing to 10000.
  const splits = new Map(routesOf(resources).filter((r) => String(r['name']).endsWith('_split')).map((r) => [String(r['name']), r]));
  for (const svc of offered) {
    const split = splits.get(`${svc.name}_split`);
    expect(split, `${svc.name}_split`).toBeDefined();
    const weighted = ((split!['route'] as ResourceJson)['weighted_clusters'] as { clusters: { name: string; weight: number }[] }).clusters;
    const order = [svc.stable, ...svc.versions.map((v) => v.name).filter((name) => name !== svc.stable)];
    expect(weighted.map((c) => c.name)).toEqual(order.map((version) => `${svc.name}_${version}`));
    expect(weighted.map((c) => c.weight)).toEqual(order.map((version) => Math.round(svc.weights[version]! * 100)));
    expect(weighted.reduce((sum, c) => sum + c.weight, 0)).toBe(10_000);
  }
}

const isIp = (address: string) => /^[\d.]+$/.test(address) || address.includes(':');

describe('a translation is self-contained (make-before-break)', () => {
  const envoyFlavours = [
    { flavour: 'Envoy ≥ 1.36 over ADS', options: {} },
    { flavour: 'Envoy < 1.36 over ADS', options: { capabilities: { hashSplit: false } } },
    {
      flavour: 'Envoy on the per-type services',
      options: { configSource: { kind: 'per-type', apiType: 'GRPC', clusterName: XDS_CLUSTER_NAME } as const },
    },
  ];

  it.each(envoyFlavours)('$flavour', ({ options }) => {
    fc.assert(
      fc.property(desiredState, (state) => {
        const resources = translate(state, options);
        checkSelfContained(resources, Object.values(state.services));
        // One listener and one route configuration per desired listener, even one without services.
        expect(resources.listeners.map((l) => l.name)).toEqual(['default', 'internal', 'spare']);
        expect(resources.routes.map((r) => r.name)).toEqual(['default', 'internal', 'spare']);
      }),
      { numRuns: 150 },
    );
  });

  it('gRPC clients', () => {
    fc.assert(
      fc.property(desiredState, (state) => {
        // Offered: services whose every version is all IPs (EDS) or one endpoint (LOGICAL_DNS).
        const offered = Object.values(state.services).filter((svc) =>
          svc.versions.every((v) => v.endpoints.every((e) => isIp(e.address)) || v.endpoints.length === 1),
        );
        const resources = translateForGrpcClients(state);
        checkSelfContained(resources, offered);
        expect(resources.listeners.map((l) => l.name)).toEqual(offered.map((svc) => svc.name).sort());
      }),
      { numRuns: 150 },
    );
  });

  it('covers the interesting inputs: weight-0 versions, mirrors, host-name versions, key-based affinity', () => {
    // Guards the generator: the properties above mean little if these never occur.
    const seen = { zeroWeight: 0, mirror: 0, hostName: 0, key: 0 };
    fc.assert(
      fc.property(desiredState, (state) => {
        for (const svc of Object.values(state.services)) {
          if (Object.values(svc.weights).some((w) => w === 0)) seen.zeroWeight++;
          if (svc.mirror && svc.mirror.percent > 0) seen.mirror++;
          if (svc.versions.some((v) => v.endpoints.some((e) => !isIp(e.address)))) seen.hostName++;
          if (svc.affinity && svc.affinity.version.by === 'header') seen.key++;
        }
      }),
      { numRuns: 150, seed: 1 },
    );
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(5);
  });
});
