// Route facts as tables, each reasoned from the model rather than copied from output: retries
// only where the model never saw the request, the timeout as a proto3 duration with "0s" meaning
// "no timeout" (left out, Envoy would apply its 15 s default), the mirror fraction in
// ten-thousandths, and the order of a service's routes. For Envoy and for gRPC clients.

import { describe, expect, it } from 'vitest';
import type { Service } from '../model/types.js';
import type { ResourceJson } from './resources.js';
import { predictService, stateOf } from './fixtures.test-support.js';
import { translate, translateForGrpcClients } from './translate.js';

/** blue 90 %, green 10 %, canary 0 %; every route kind: pins, two rules, cohort cookies, split. */
function service(overrides: Partial<Service> = {}): Service {
  return predictService({
    affinity: { version: { by: 'cohortCookie', name: 'track', ttl: '1h' }, hash: [], lb: 'ringHash' },
    rules: [
      { match: { headers: { 'x-tenant': 'acme' } }, to: 'canary' },
      { match: { cookies: { beta: 'yes' } }, to: 'green' },
    ],
    ...overrides,
  });
}


function envoyRoutes(svc: Service): ResourceJson[] {
  return (translate(stateOf(svc)).routes[0]!.resource['virtual_hosts'] as { routes: ResourceJson[] }[])[0]!.routes;
}

function grpcRoutes(svc: Service): ResourceJson[] {
  return (translateForGrpcClients(stateOf(svc)).routes[0]!.resource['virtual_hosts'] as { routes: ResourceJson[] }[])[0]!.routes;
}

const action = (route: ResourceJson) => route['route'] as ResourceJson;

describe('route order', () => {
  it('Envoy: pins per declared version, rules in order, cohorts of versions with traffic, then the split', () => {
    expect(envoyRoutes(service()).map((r) => r['name'])).toEqual([
      'predict_pin_blue',
      'predict_pin_green',
      'predict_pin_canary',
      'predict_rule_0',
      'predict_rule_1',
      'predict_cohort_blue', // 90 %
      'predict_cohort_green', // 10 %; canary (0 %) has none
      'predict_split',
    ]);
  });

  it('gRPC: pins, then the split (the gRPC flavour has no rule or cohort routes)', () => {
    expect(grpcRoutes(service()).map((r) => r['name'])).toEqual(['predict_pin_blue', 'predict_pin_green', 'predict_pin_canary', 'predict_split']);
  });

  it('each single-version route goes where its match says', () => {
    const byName = Object.fromEntries(envoyRoutes(service()).map((r) => [r['name'], action(r)['cluster']]));
    expect(byName).toEqual({
      predict_pin_blue: 'predict_blue',
      predict_pin_green: 'predict_green',
      predict_pin_canary: 'predict_canary',
      predict_rule_0: 'predict_canary', // x-tenant: acme → canary, although canary has 0 %
      predict_rule_1: 'predict_green',
      predict_cohort_blue: 'predict_blue',
      predict_cohort_green: 'predict_green',
      predict_split: undefined,
    });
  });
});

describe('retries', () => {
  // Only failures before the request reached the model: a prediction is never computed twice.
  const SAFE = { retry_on: 'connect-failure,refused-stream,reset-before-request', num_retries: 2 };

  it('every Envoy route retries only connect-failure, refused-stream and reset-before-request, twice', () => {
    const routes = envoyRoutes(service());
    expect(routes).toHaveLength(8);
    for (const route of routes) expect(action(route)['retry_policy'], String(route['name'])).toEqual(SAFE);
  });

  it('gRPC clients get no retry policy (they ignore non-gRPC retry conditions)', () => {
    for (const route of grpcRoutes(service())) expect(action(route)['retry_policy']).toBeUndefined();
  });
});

interface TimeoutCase {
  timeout: string;
  json: string;
}

// A proto3 JSON duration is seconds with a fraction: milliseconds / 1000, then "s".
const timeoutCases: TimeoutCase[] = [
  { timeout: '0s', json: '0s' }, // 0 ms: Envoy reads a 0 s route timeout as disabled
  { timeout: '30s', json: '30s' },
  { timeout: '1.5s', json: '1.5s' },
  { timeout: '500ms', json: '0.5s' }, // 500 / 1000
  { timeout: '1m30s', json: '90s' }, // 60 + 30
  { timeout: '2m30s', json: '150s' }, // 120 + 30
  { timeout: '1h', json: '3600s' }, // 60 × 60
  { timeout: '1h0m0.25s', json: '3600.25s' },
];

describe('timeouts', () => {
  it.each(timeoutCases)('Envoy: $timeout → timeout $json on every route', ({ timeout, json }) => {
    for (const route of envoyRoutes(service({ timeout }))) expect(action(route)['timeout'], String(route['name'])).toBe(json);
  });

  it('"0s" is sent, not left out (without it Envoy would cut requests at its 15 s default)', () => {
    for (const route of envoyRoutes(service({ timeout: '0s' }))) expect(action(route)).toHaveProperty('timeout', '0s');
  });

  it.each(timeoutCases)('gRPC: $timeout → max_stream_duration $json, no timeout field', ({ timeout, json }) => {
    for (const route of grpcRoutes(service({ timeout }))) {
      expect(action(route)['max_stream_duration']).toEqual({ max_stream_duration: json });
      expect(action(route)['timeout']).toBeUndefined();
    }
  });
});

interface MirrorCase {
  name: string;
  mirror: Service['mirror'];
  expected: unknown;
}

const mirrorTo = (cluster: string, numerator: number) => [
  { cluster, runtime_fraction: { default_value: { numerator, denominator: 'TEN_THOUSAND' } } },
];

// The fraction is percent × 100 out of TEN_THOUSAND (percentages have at most two decimals).
const mirrorCases: MirrorCase[] = [
  { name: 'no mirror', mirror: undefined, expected: undefined },
  { name: '0 %: no mirror policy at all', mirror: { to: 'green', percent: 0 }, expected: undefined },
  { name: '5.5 % to green', mirror: { to: 'green', percent: 5.5 }, expected: mirrorTo('predict_green', 550) },
  { name: '0.01 %, the smallest', mirror: { to: 'green', percent: 0.01 }, expected: mirrorTo('predict_green', 1) },
  { name: '0.29 %: 29, not 28 (0.29 × 100 is just below 29 in a double)', mirror: { to: 'green', percent: 0.29 }, expected: mirrorTo('predict_green', 29) },
  { name: '100 % to a version without traffic', mirror: { to: 'canary', percent: 100 }, expected: mirrorTo('predict_canary', 10_000) },
];

describe('mirror', () => {
  it.each(mirrorCases)('$name', ({ mirror, expected }) => {
    const routes = envoyRoutes(service(mirror ? { mirror } : {}));
    expect(action(routes.at(-1)!)['request_mirror_policies']).toEqual(expected);
    // Only the split mirrors: a pinned, ruled or cohort request is not copied.
    for (const route of routes.slice(0, -1)) expect(action(route)['request_mirror_policies']).toBeUndefined();
  });
});
