// The affinity decisions as a table: per affinity kind and Envoy class (≥ 1.36 has
// `weighted_clusters.use_hash_policy`; older ones get cohort cookies instead), what the translation
// says — the routes' hash_policy, use_hash_policy on the split, the clusters' lb_policy and the
// cohort-cookie routes and Set-Cookie lifetimes. Expected values are worked out by hand from the
// model (comments show how), read from `translate`'s output, never copied from it.

import { describe, expect, it } from 'vitest';
import type { Affinity, Service } from '../model/types.js';
import { effectiveVersionAffinity, routeHashPolicy, usesHashSplit, type ProxyCapabilities } from './affinity.js';
import type { ResourceJson } from './resources.js';
import { predictService, stateOf } from './fixtures.test-support.js';
import { translate } from './translate.js';

const CURRENT: ProxyCapabilities = { hashSplit: true };
const PRE_1_36: ProxyCapabilities = { hashSplit: false };

/** blue 90 %, green 10 %, canary 0 % (a version without traffic gets no cohort route). */
function service(affinity: Affinity | undefined): Service {
  return predictService(affinity ? { affinity } : {});
}


interface Facts {
  /** The hash_policy every route of the service carries (undefined: none). */
  hashPolicy: unknown;
  useHashPolicy: unknown;
  /** Per cluster. */
  lbPolicy: Record<string, unknown>;
  /** Names of the cohort-cookie routes, in order. */
  cohortRoutes: string[];
  /** The Set-Cookie each weighted cluster adds (undefined: none). */
  setCookie: Record<string, string | undefined>;
}

function facts(svc: Service, capabilities: ProxyCapabilities): Facts {
  const resources = translate(stateOf(svc), { capabilities });
  const routes = (resources.routes[0]!.resource['virtual_hosts'] as { routes: ResourceJson[] }[])[0]!.routes;
  // The unknown-pin route has no route action: Envoy answers it itself, nothing is hashed.
  const actions = routes.flatMap((route) => (route['route'] ? [route['route'] as ResourceJson] : []));
  const hashPolicies = actions.map((action) => action['hash_policy']);
  // One hash per request: every forwarding route of the service (pin, rule, cohort, split) hashes the same way.
  for (const policy of hashPolicies) expect(policy).toEqual(hashPolicies[0]);
  const split = actions.at(-1)!['weighted_clusters'] as { clusters: ResourceJson[]; use_hash_policy?: unknown };
  return {
    hashPolicy: hashPolicies[0],
    useHashPolicy: split.use_hash_policy,
    lbPolicy: Object.fromEntries(resources.clusters.map(({ name, resource }) => [name, resource['lb_policy']])),
    cohortRoutes: routes.map((route) => String(route['name'])).filter((name) => name.includes('_cohort_')),
    setCookie: Object.fromEntries(
      split.clusters.map((cluster) => {
        const headers = cluster['response_headers_to_add'] as { header: { key: string; value: string } }[];
        return [String(cluster['name']), headers.find((h) => h.header.key === 'set-cookie')?.header.value];
      }),
    ),
  };
}

const none = { predict_blue: undefined, predict_green: undefined, predict_canary: undefined };
const lb = (policy: string | undefined) => ({ predict_blue: policy, predict_canary: policy, predict_green: policy });
/** Cohort routes for the versions with traffic, in split order: blue (90 %), green (10 %); not canary (0 %). */
const COHORT_ROUTES = ['predict_cohort_blue', 'predict_cohort_green'];
/** Set-Cookie values: stable gets min(300 s, ttl), the others the ttl in whole seconds. */
const cookies = (name: string, stableSeconds: number, otherSeconds: number) => ({
  predict_blue: `${name}=blue; Max-Age=${stableSeconds}; Path=/; HttpOnly`,
  predict_green: `${name}=green; Max-Age=${otherSeconds}; Path=/; HttpOnly`,
  predict_canary: `${name}=canary; Max-Age=${otherSeconds}; Path=/; HttpOnly`,
});

interface Case {
  name: string;
  affinity: Affinity | undefined;
  envoy: 'current' | 'pre-1.36';
  expected: Facts;
}

const header = { header: { header_name: 'x-user-id' } };

const cases: Case[] = [
  ...(['current', 'pre-1.36'] as const).map(
    (envoy): Case => ({
      name: `no affinity (${envoy}): a random split, round robin, nothing hashed`,
      affinity: undefined,
      envoy,
      expected: { hashPolicy: undefined, useHashPolicy: undefined, lbPolicy: lb(undefined), cohortRoutes: [], setCookie: none },
    }),
  ),
  ...(['current', 'pre-1.36'] as const).map(
    (envoy): Case => ({
      name: `replica affinity only (${envoy}): the replica cookie is hashed, the split stays random`,
      affinity: { version: { by: 'none' }, hash: [{ cookie: 'replica', ttl: '1h', path: '/predict' }], lb: 'ringHash' },
      envoy,
      // ttl 1h = 3600 s
      expected: {
        hashPolicy: [{ cookie: { name: 'replica', ttl: '3600s', path: '/predict' } }],
        useHashPolicy: undefined,
        lbPolicy: lb('RING_HASH'),
        cohortRoutes: [],
        setCookie: none,
      },
    }),
  ),
  {
    name: 'replica affinity by source IP with maglev',
    affinity: { version: { by: 'none' }, hash: [{ sourceIp: true }], lb: 'maglev' },
    envoy: 'current',
    expected: {
      hashPolicy: [{ connection_properties: { source_ip: true } }],
      useHashPolicy: undefined,
      lbPolicy: lb('MAGLEV'),
      cohortRoutes: [],
      setCookie: none,
    },
  },
  {
    name: 'version by header, current Envoy: the header is hashed and the split drawn from it',
    affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [], lb: 'ringHash' },
    envoy: 'current',
    // No replica hash: the version key alone; the clusters stay round robin.
    expected: { hashPolicy: [header], useHashPolicy: true, lbPolicy: lb(undefined), cohortRoutes: [], setCookie: none },
  },
  {
    name: 'version and replica by the same header, current Envoy: hashed once, maglev clusters',
    affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }], lb: 'maglev' },
    envoy: 'current',
    expected: { hashPolicy: [header], useHashPolicy: true, lbPolicy: lb('MAGLEV'), cohortRoutes: [], setCookie: none },
  },
  {
    name: 'version by header, Envoy before 1.36: cohort cookies sluice-predict (24 h) instead, nothing hashed',
    affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [], lb: 'ringHash' },
    envoy: 'pre-1.36',
    // fallback ttl 24 h = 86400 s; stable: min(300, 86400) = 300
    expected: {
      hashPolicy: undefined,
      useHashPolicy: undefined,
      lbPolicy: lb(undefined),
      cohortRoutes: COHORT_ROUTES,
      setCookie: cookies('sluice-predict', 300, 86_400),
    },
  },
  {
    name: 'version and replica by header, Envoy before 1.36: cohort cookies for the version, the header still picks the replica',
    affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }], lb: 'maglev' },
    envoy: 'pre-1.36',
    expected: {
      hashPolicy: [header],
      useHashPolicy: undefined,
      lbPolicy: lb('MAGLEV'),
      cohortRoutes: COHORT_ROUTES,
      setCookie: cookies('sluice-predict', 300, 86_400),
    },
  },
  {
    name: 'version by cookie, current Envoy: the cookie is hashed (Envoy generates none: no ttl)',
    affinity: { version: { by: 'cookie', name: 'uid' }, hash: [], lb: 'ringHash' },
    envoy: 'current',
    expected: { hashPolicy: [{ cookie: { name: 'uid' } }], useHashPolicy: true, lbPolicy: lb(undefined), cohortRoutes: [], setCookie: none },
  },
  {
    name: 'version by query parameter, current Envoy',
    affinity: { version: { by: 'query', name: 'user' }, hash: [{ queryParameter: 'user' }], lb: 'ringHash' },
    envoy: 'current',
    expected: {
      hashPolicy: [{ query_parameter: { name: 'user' } }],
      useHashPolicy: true,
      lbPolicy: lb('RING_HASH'),
      cohortRoutes: [],
      setCookie: none,
    },
  },
  {
    name: 'version by source IP, current Envoy',
    affinity: { version: { by: 'sourceIp' }, hash: [], lb: 'ringHash' },
    envoy: 'current',
    expected: {
      hashPolicy: [{ connection_properties: { source_ip: true } }],
      useHashPolicy: true,
      lbPolicy: lb(undefined),
      cohortRoutes: [],
      setCookie: none,
    },
  },
  {
    name: 'version by source IP, Envoy before 1.36: cohort cookies instead',
    affinity: { version: { by: 'sourceIp' }, hash: [], lb: 'ringHash' },
    envoy: 'pre-1.36',
    expected: {
      hashPolicy: undefined,
      useHashPolicy: undefined,
      lbPolicy: lb(undefined),
      cohortRoutes: COHORT_ROUTES,
      setCookie: cookies('sluice-predict', 300, 86_400),
    },
  },
  ...(['current', 'pre-1.36'] as const).map(
    (envoy): Case => ({
      name: `cohort cookie (${envoy}): the operator's cookie and ttl on any Envoy, never use_hash_policy`,
      affinity: { version: { by: 'cohortCookie', name: 'model.track', ttl: '6h' }, hash: [], lb: 'ringHash' },
      envoy,
      // 6 h = 21600 s; stable: min(300, 21600) = 300
      expected: {
        hashPolicy: undefined,
        useHashPolicy: undefined,
        lbPolicy: lb(undefined),
        cohortRoutes: COHORT_ROUTES,
        setCookie: cookies('model.track', 300, 21_600),
      },
    }),
  ),
  {
    name: 'a cohort cookie shorter than 300 s: the stable one lives as long as the others',
    affinity: { version: { by: 'cohortCookie', name: 'track', ttl: '2m' }, hash: [{ cookie: 'replica' }], lb: 'ringHash' },
    envoy: 'current',
    // 2 m = 120 s; stable: min(300, 120) = 120
    expected: {
      hashPolicy: [{ cookie: { name: 'replica' } }],
      useHashPolicy: undefined,
      lbPolicy: lb('RING_HASH'),
      cohortRoutes: COHORT_ROUTES,
      setCookie: cookies('track', 120, 120),
    },
  },
  {
    name: 'a cohort cookie ttl with a fraction of a second is whole seconds',
    affinity: { version: { by: 'cohortCookie', name: 'track', ttl: '90.5s' }, hash: [], lb: 'ringHash' },
    envoy: 'current',
    // 90.5 s → 90 s (whole seconds, down); stable: min(300, 90) = 90
    expected: { hashPolicy: undefined, useHashPolicy: undefined, lbPolicy: lb(undefined), cohortRoutes: COHORT_ROUTES, setCookie: cookies('track', 90, 90) },
  },
];

describe('affinity in the translation', () => {
  it.each(cases)('$name', ({ affinity, envoy, expected }) => {
    expect(facts(service(affinity), envoy === 'current' ? CURRENT : PRE_1_36)).toEqual(expected);
  });
});

describe('cohort cookie names with "%"', () => {
  it('are written "%%" in the Set-Cookie value, which Envoy reads as a substitution format', () => {
    const affinity: Affinity = { version: { by: 'cohortCookie', name: 'a%b', ttl: '1h' }, hash: [], lb: 'ringHash' };
    // Envoy turns "%%" back into "%": the client receives a%b=blue.
    expect(facts(service(affinity), CURRENT).setCookie['predict_blue']).toBe('a%%b=blue; Max-Age=300; Path=/; HttpOnly');
  });
});

describe('the pure affinity decisions', () => {
  const byHeader: Affinity = { version: { by: 'header', name: 'x-user-id' }, hash: [], lb: 'ringHash' };

  it('a key-based version affinity is kept on current Envoys and replaced by the cohort fallback on older ones', () => {
    expect(effectiveVersionAffinity(service(byHeader), CURRENT)).toEqual({ by: 'header', name: 'x-user-id' });
    expect(effectiveVersionAffinity(service(byHeader), PRE_1_36)).toEqual({ by: 'cohortCookie', name: 'sluice-predict', ttl: '24h' });
    expect(usesHashSplit(service(byHeader), CURRENT)).toBe(true);
    expect(usesHashSplit(service(byHeader), PRE_1_36)).toBe(false);
  });

  it('a service without affinity hashes nothing on any Envoy', () => {
    for (const capabilities of [CURRENT, PRE_1_36]) {
      expect(effectiveVersionAffinity(service(undefined), capabilities)).toEqual({ by: 'none' });
      expect(routeHashPolicy(service(undefined), capabilities)).toBeUndefined();
      expect(usesHashSplit(service(undefined), capabilities)).toBe(false);
    }
  });
});
