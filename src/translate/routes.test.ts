// Route facts as tables, each reasoned from the model rather than copied from output: retries
// only where the model never saw the request, the timeout as a proto3 duration with "0s" meaning
// "no timeout" (left out, Envoy would apply its 15 s default), the mirror fraction in
// ten-thousandths, the order of a service's routes, and the 400 Envoy answers itself to a pin
// header that names no version (checked also by walking the routes as Envoy does: first match
// wins). For Envoy and for gRPC clients.

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
/** The routes that forward to a version (all but the unknown-pin 400). */
const forwarding = (routes: ResourceJson[]) => routes.filter((route) => route['route'] !== undefined);

describe('route order', () => {
  it('Envoy: pins per declared version, the unknown-pin 400, rules in order, cohorts of versions with traffic, then the split', () => {
    expect(envoyRoutes(service()).map((r) => r['name'])).toEqual([
      'predict_pin_blue',
      'predict_pin_green',
      'predict_pin_canary',
      'predict_unknown-pin', // after every pin, before anything that would serve the request
      'predict_rule_0',
      'predict_rule_1',
      'predict_cohort_blue', // 90 %
      'predict_cohort_green', // 10 %; canary (0 %) has none
      'predict_split',
    ]);
  });

  it('gRPC: pins, then the split (the gRPC flavour has no unknown-pin, rule or cohort routes)', () => {
    expect(grpcRoutes(service()).map((r) => r['name'])).toEqual(['predict_pin_blue', 'predict_pin_green', 'predict_pin_canary', 'predict_split']);
  });

  it('each single-version route goes where its match says', () => {
    const byName = Object.fromEntries(forwarding(envoyRoutes(service())).map((r) => [r['name'], action(r)['cluster']]));
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

  it('every forwarding Envoy route retries only connect-failure, refused-stream and reset-before-request, twice', () => {
    const routes = forwarding(envoyRoutes(service()));
    expect(routes).toHaveLength(8); // 3 pins, 2 rules, 2 cohorts, the split
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
    for (const route of forwarding(envoyRoutes(service({ timeout })))) expect(action(route)['timeout'], String(route['name'])).toBe(json);
  });

  it('"0s" is sent, not left out (without it Envoy would cut requests at its 15 s default)', () => {
    for (const route of forwarding(envoyRoutes(service({ timeout: '0s' })))) expect(action(route)).toHaveProperty('timeout', '0s');
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
    const routes = forwarding(envoyRoutes(service(mirror ? { mirror } : {})));
    expect(action(routes.at(-1)!)['request_mirror_policies']).toEqual(expected);
    // Only the split mirrors: a pinned, ruled or cohort request is not copied.
    for (const route of routes.slice(0, -1)) expect(action(route)['request_mirror_policies']).toBeUndefined();
  });
});

/**
 * The route Envoy picks for a request: the first whose prefix and every header matcher match.
 * Only the matcher kinds sluice emits: exact, a full-match regex (RE2 syntax that JS reads alike),
 * present_match, and invert_match (on a header that is absent it does not match).
 */
function firstMatch(routes: ResourceJson[], path: string, headers: Record<string, string>): string | undefined {
  interface Matcher {
    name: string;
    present_match?: boolean;
    invert_match?: boolean;
    string_match?: { exact?: string; safe_regex?: { regex: string } };
  }
  const matches = (matcher: Matcher): boolean => {
    const value = headers[matcher.name];
    if (matcher.present_match !== undefined) return (value !== undefined) === matcher.present_match !== Boolean(matcher.invert_match);
    if (value === undefined) return false;
    const { exact, safe_regex } = matcher.string_match!;
    const hit = exact !== undefined ? value === exact : new RegExp(`^(?:${safe_regex!.regex})$`).test(value);
    return hit !== Boolean(matcher.invert_match);
  };
  const route = routes.find((r) => {
    const match = r['match'] as { prefix: string; headers?: Matcher[] };
    return path.startsWith(match.prefix) && (match.headers ?? []).every(matches);
  });
  return route === undefined ? undefined : String(route['name']);
}

describe('a pin header that names no version', () => {
  it('is answered by Envoy itself: 400, a body naming the header and every version as declared, no served-version header', () => {
    const unknown = envoyRoutes(service()).find((r) => r['name'] === 'predict_unknown-pin')!;
    expect(unknown).toEqual({
      name: 'predict_unknown-pin',
      // Any value at all: the pin routes before it took every exact version name.
      match: { prefix: '/predict', headers: [{ name: 'x-sluice-version', present_match: true }] },
      // canary is listed although it has 0 %: a pin reaches any version.
      direct_response: { status: 400, body: { inline_string: 'unknown version in x-sluice-version; known versions: blue, green, canary\n' } },
    });
    // No route action (nothing forwarded, no retry or timeout) and no response_headers_to_add.
    expect(unknown).not.toHaveProperty('route');
    expect(unknown).not.toHaveProperty('response_headers_to_add');
  });

  it("names the service's own pin header and versions", () => {
    const svc = service({
      pinHeader: 'x-model-track',
      versions: ['v2', 'v1'].map((name, i) => ({ name, endpoints: [{ address: `10.0.${i}.1`, port: 5001 }] })),
      weights: { v1: 100, v2: 0 },
      stable: 'v1',
      rules: [],
    });
    const unknown = envoyRoutes(svc).find((r) => r['name'] === 'predict_unknown-pin')!;
    expect(unknown['match']).toEqual({ prefix: '/predict', headers: [{ name: 'x-model-track', present_match: true }] });
    expect(unknown['direct_response']).toEqual({ status: 400, body: { inline_string: 'unknown version in x-model-track; known versions: v2, v1\n' } });
  });

  it('leaves to an A/B rule the values it matches on the pin header (sorted, each once)', () => {
    const svc = service({
      rules: [
        { match: { headers: { 'x-sluice-version': 'testers', 'x-tenant': 'acme' } }, to: 'green' },
        { match: { headers: { 'x-sluice-version': 'beta' } }, to: 'canary' },
        { match: { headers: { 'x-sluice-version': 'testers' } }, to: 'blue' },
        { match: { headers: { 'x-region': 'eu' } }, to: 'blue' },
      ],
    });
    const routes = envoyRoutes(svc);
    expect((routes.find((r) => r['name'] === 'predict_unknown-pin')!['match'] as ResourceJson)['headers']).toEqual([
      { name: 'x-sluice-version', present_match: true },
      { name: 'x-sluice-version', string_match: { exact: 'beta' }, invert_match: true },
      { name: 'x-sluice-version', string_match: { exact: 'testers' }, invert_match: true },
    ]);
    expect(firstMatch(routes, '/predict', { 'x-sluice-version': 'beta' })).toBe('predict_rule_1');
    expect(firstMatch(routes, '/predict', { 'x-sluice-version': 'testers', 'x-tenant': 'acme' })).toBe('predict_rule_0');
    expect(firstMatch(routes, '/predict', { 'x-sluice-version': 'testers' })).toBe('predict_rule_2');
    expect(firstMatch(routes, '/predict', { 'x-sluice-version': 'purple', 'x-region': 'eu' })).toBe('predict_unknown-pin');
  });

  interface RequestCase {
    name: string;
    path?: string;
    headers: Record<string, string>;
    route: string | undefined;
  }

  // service(): pins blue, green, canary; rule 0 x-tenant: acme → canary; rule 1 cookie beta=yes →
  // green; cohort cookie `track`; the split.
  const requestCases: RequestCase[] = [
    { name: 'green pins green', headers: { 'x-sluice-version': 'green' }, route: 'predict_pin_green' },
    { name: 'canary (0 %) pins canary', headers: { 'x-sluice-version': 'canary' }, route: 'predict_pin_canary' },
    { name: 'purple names no version', headers: { 'x-sluice-version': 'purple' }, route: 'predict_unknown-pin' },
    { name: 'Green: matching is case-sensitive', headers: { 'x-sluice-version': 'Green' }, route: 'predict_unknown-pin' },
    { name: 'an empty value names no version', headers: { 'x-sluice-version': '' }, route: 'predict_unknown-pin' },
    { name: 'no pin header: the split', headers: {}, route: 'predict_split' },
    { name: 'a rule without a pin', headers: { 'x-tenant': 'acme' }, route: 'predict_rule_0' },
    { name: 'a bad pin is refused before any rule', headers: { 'x-tenant': 'acme', 'x-sluice-version': 'purple' }, route: 'predict_unknown-pin' },
    { name: 'a bad pin is refused before the cohort cookie', headers: { cookie: 'track=green', 'x-sluice-version': 'gren' }, route: 'predict_unknown-pin' },
    { name: 'a good pin beats a rule', headers: { 'x-tenant': 'acme', 'x-sluice-version': 'blue' }, route: 'predict_pin_blue' },
    { name: 'the cohort cookie without a pin', headers: { cookie: 'track=green' }, route: 'predict_cohort_green' },
    { name: "another path is not the service's", path: '/other', headers: { 'x-sluice-version': 'purple' }, route: undefined },
  ];

  it.each(requestCases)('Envoy: $name', ({ path, headers, route }) => {
    expect(firstMatch(envoyRoutes(service()), path ?? '/predict', headers)).toBe(route);
  });

  it('gRPC clients get no unknown-pin route (grpc-js-xds rejects a route configuration with direct_response)', () => {
    const routes = grpcRoutes(service());
    for (const route of routes) expect(route).not.toHaveProperty('direct_response');
    expect(firstMatch(routes, '/predict.Model/Predict', { 'x-sluice-version': 'purple' })).toBe('predict_split');
  });
});
