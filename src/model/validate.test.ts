// Meaning-level checks: defaults, weights in hundredths, unique names, references and
// route/port collisions, each failing with its code and JSON pointer.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors.js';
import type { ServiceBody } from './schema.js';
import type { DesiredState } from './types.js';
import {
  checkListenerPlacement,
  checkServicePlacement,
  completeWeights,
  normalizeListener,
  normalizeService,
  validateState,
} from './validate.js';

function errorOf(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError, nothing was thrown');
}

function body(overrides: Partial<ServiceBody> = {}): ServiceBody {
  return {
    match: { prefix: '/predict' },
    versions: [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
    ],
    ...overrides,
  };
}

const state: DesiredState = {
  revision: 3,
  listeners: {
    default: { name: 'default', address: '0.0.0.0', port: 8080 },
    internal: { name: 'internal', address: '10.0.0.1', port: 9090 },
  },
  services: {},
};

describe('normalizeService', () => {
  it('fills every default: listener, hosts, stable = first version with 100%, pin header, timeout', () => {
    expect(normalizeService('predict', body())).toEqual({
      name: 'predict',
      listener: 'default',
      match: { prefix: '/predict' },
      hosts: ['*'],
      versions: body().versions,
      weights: { blue: 100, green: 0 },
      stable: 'blue',
      pinHeader: 'x-sluice-version',
      timeout: '30s',
    });
  });

  it('gives 100% to an explicit stable version when weights are omitted', () => {
    const service = normalizeService('predict', body({ stable: 'green' }));
    expect(service.weights).toEqual({ blue: 0, green: 100 });
    expect(service.stable).toBe('green');
  });

  it('gives 0 to versions the weights leave out, in version order', () => {
    const service = normalizeService('predict', body({ weights: { green: 100 } }));
    expect(Object.entries(service.weights)).toEqual([
      ['blue', 0],
      ['green', 100],
    ]);
  });

  it('accepts two-decimal weights that sum to exactly 100', () => {
    const three = body({
      versions: ['a', 'b', 'c'].map((name, i) => ({ name, endpoints: [{ address: 'model.local', port: 5000 + i }] })),
      weights: { a: 33.33, b: 33.33, c: 33.34 },
    });
    expect(normalizeService('predict', three).weights).toEqual({ a: 33.33, b: 33.33, c: 33.34 });
  });

  it('rejects more than two decimals with SLUICE_INVALID_BODY at the weight', () => {
    const error = errorOf(() => normalizeService('predict', body({ weights: { blue: 33.333, green: 66.667 } })));
    expect(error).toMatchObject({ code: 'SLUICE_INVALID_BODY', path: '/weights/blue' });
  });

  it('rejects weights that do not sum to 100', () => {
    const error = errorOf(() => normalizeService('predict', body({ weights: { blue: 90, green: 9 } })));
    expect(error).toMatchObject({ code: 'SLUICE_WEIGHTS_SUM', path: '/weights' });
    expect(error.message).toContain('99');
  });

  it('rejects a weight for an unknown version', () => {
    const error = errorOf(() => normalizeService('predict', body({ weights: { blue: 50, red: 50 } })));
    expect(error).toMatchObject({ code: 'SLUICE_UNKNOWN_VERSION', path: '/weights/red' });
  });

  it('rejects duplicate version names at the second occurrence', () => {
    const versions = [...body().versions, { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5003 }] }];
    const error = errorOf(() => normalizeService('predict', body({ versions })));
    expect(error).toMatchObject({ code: 'SLUICE_DUPLICATE_VERSION', path: '/versions/2/name' });
  });

  it('rejects a stable version that is not defined', () => {
    const error = errorOf(() => normalizeService('predict', body({ stable: 'red' })));
    expect(error).toMatchObject({ code: 'SLUICE_UNKNOWN_VERSION', path: '/stable' });
  });

  it('rejects a body name that differs from the path name', () => {
    expect(errorOf(() => normalizeService('predict', body({ name: 'other' })))).toMatchObject({
      code: 'SLUICE_INVALID_BODY',
      path: '/name',
    });
    expect(normalizeService('predict', body({ name: 'predict' })).name).toBe('predict');
  });

  it('accepts IPv4, IPv6 and host names as endpoint addresses, and nothing else', () => {
    for (const address of ['10.1.2.3', '::1', 'fd00::5', 'model-a.svc.cluster.local', 'localhost']) {
      const versions = [{ name: 'blue', endpoints: [{ address, port: 1 }] }];
      expect(normalizeService('predict', body({ versions })).versions[0]?.endpoints[0]?.address).toBe(address);
    }
    for (const address of ['bad host', 'under_score.example', '-lead.example', '1.2.3.4:80', 'a..b']) {
      const versions = [{ name: 'blue', endpoints: [{ address, port: 1 }] }];
      expect(errorOf(() => normalizeService('predict', body({ versions })))).toMatchObject({
        code: 'SLUICE_INVALID_BODY',
        path: '/versions/0/endpoints/0/address',
      });
    }
  });

  it('lowercases hosts and rejects ones that are equal but for case', () => {
    expect(normalizeService('predict', body({ hosts: ['API.Example.com'] })).hosts).toEqual(['api.example.com']);
    expect(errorOf(() => normalizeService('predict', body({ hosts: ['a.example', 'A.example'] })))).toMatchObject({
      code: 'SLUICE_INVALID_BODY',
      path: '/hosts/1',
    });
  });

  it('checks the timeout and the service name', () => {
    expect(errorOf(() => normalizeService('predict', body({ timeout: '30' })))).toMatchObject({ path: '/timeout' });
    expect(errorOf(() => normalizeService('Predict', body())).code).toBe('SLUICE_INVALID_BODY');
  });
});

describe('limits of what Envoy accepts', () => {
  const long = (n: number, unit = 'a') => unit.repeat(n);
  it.each<[string, Partial<ServiceBody>, string, string]>([
    ['the timeout', { timeout: '2562048h' }, 'SLUICE_DURATION_TOO_LONG', '/timeout'],
    ['an outlier-detection interval', { outlierDetection: { interval: '999999999999s' } }, 'SLUICE_DURATION_TOO_LONG', '/outlierDetection/interval'],
    ['an ejection time', { outlierDetection: { baseEjectionTime: '2562048h' } }, 'SLUICE_DURATION_TOO_LONG', '/outlierDetection/baseEjectionTime'],
    ['a health-check interval', { healthCheck: { interval: '999999999999s' } }, 'SLUICE_DURATION_TOO_LONG', '/healthCheck/interval'],
    ['a hash-cookie ttl', { affinity: { hash: [{ cookie: 'session', ttl: '999999999999s' }] } }, 'SLUICE_DURATION_TOO_LONG', '/affinity/hash/0/ttl'],
    ['a cohort-cookie ttl', { affinity: { version: { by: 'cohortCookie', name: 'cohort', ttl: '2562048h' } } }, 'SLUICE_DURATION_TOO_LONG', '/affinity/version/ttl'],
    ['a rule cookie over 64 bytes', { rules: [{ match: { cookies: { [long(32)]: long(33, 'b') } }, to: 'green' }] }, 'SLUICE_COOKIE_MATCH_TOO_LONG', `/rules/0/match/cookies/${long(32)}`],
    ['a rule cookie over 64 bytes of UTF-8', { rules: [{ match: { headers: { 'x-a': 'b' }, cookies: { c: long(32, 'é') } }, to: 'green' }] }, 'SLUICE_COOKIE_MATCH_TOO_LONG', '/rules/0/match/cookies/c'],
    ['a cohort cookie that is too long with the longest version', { affinity: { version: { by: 'cohortCookie', name: long(60) } } }, 'SLUICE_COOKIE_MATCH_TOO_LONG', '/affinity/version/name'],
  ])('refuses %s with its code and path', (_name, overrides, code, path) => {
    const error = errorOf(() => normalizeService('predict', body(overrides)));
    expect(error).toMatchObject({ code, path, status: 422 });
  });

  it('takes the largest values under the limits', () => {
    expect(() =>
      normalizeService(
        'predict',
        body({
          timeout: '2562047h',
          healthCheck: { interval: '2562047h', timeout: '2562047h' },
          affinity: { version: { by: 'cohortCookie', name: long(59), ttl: '2562047h' } },
          rules: [{ match: { cookies: { [long(32)]: long(32, 'b'), c: long(31, 'é') } }, to: 'green' }],
        }),
      ),
    ).not.toThrow();
  });

  it('says what the limit is and what was given', () => {
    expect(errorOf(() => normalizeService('predict', body({ timeout: '2562048h' }))).message).toBe(
      '"2562048h" is longer than Envoy accepts; give at most 2562047h (about 292 years).',
    );
    expect(errorOf(() => normalizeService('predict', body({ rules: [{ match: { cookies: { c: long(64, 'v') } }, to: 'green' }] }))).message).toMatch(
      /^Cookie "c" with the value "v{64}" is 65 bytes of UTF-8 together; a matched cookie's name and value may hold at most 64/,
    );
  });
});

describe('completeWeights', () => {
  const versions = body().versions;

  it('paths errors relative to the given base (the weights body itself)', () => {
    expect(errorOf(() => completeWeights(versions, { red: 100 }, ''))).toMatchObject({ path: '/red' });
    expect(errorOf(() => completeWeights(versions, { blue: 99 }, ''))).toMatchObject({ code: 'SLUICE_WEIGHTS_SUM', path: '' });
  });

  it('rejects negative and over-100 weights even when they sum to 100', () => {
    expect(errorOf(() => completeWeights(versions, { blue: 150, green: -50 }, '/weights'))).toMatchObject({
      code: 'SLUICE_INVALID_BODY',
      path: '/weights/blue',
    });
  });

  it('compares in hundredths, so float noise such as 0.1 + 0.2 is no issue', () => {
    expect(completeWeights(versions, { blue: 99.9, green: 0.1 }, '')).toEqual({ blue: 99.9, green: 0.1 });
  });
});

describe('placement', () => {
  const withPredict: DesiredState = { ...state, services: { predict: normalizeService('predict', body()) } };

  it('requires the listener to exist', () => {
    const service = normalizeService('other', body({ listener: 'missing' }));
    expect(errorOf(() => checkServicePlacement(service, state))).toMatchObject({
      code: 'SLUICE_UNKNOWN_LISTENER',
      path: '/listener',
    });
  });

  it('refuses a second service with the same host and prefix on the same listener', () => {
    const clash = normalizeService('other', body({ hosts: ['api.example', '*'] }));
    expect(errorOf(() => checkServicePlacement(clash, withPredict))).toMatchObject({
      code: 'SLUICE_ROUTE_CONFLICT',
      path: '/match/prefix',
    });
  });

  it('allows the same prefix on another host or listener, and a service to replace itself', () => {
    expect(() => checkServicePlacement(normalizeService('other', body({ hosts: ['api.example'] })), withPredict)).not.toThrow();
    expect(() => checkServicePlacement(normalizeService('other', body({ listener: 'internal' })), withPredict)).not.toThrow();
    expect(() => checkServicePlacement(normalizeService('predict', body()), withPredict)).not.toThrow();
  });

  it('refuses a listener on a port another listener binds on an overlapping address', () => {
    expect(errorOf(() => checkListenerPlacement(normalizeListener('x', { port: 8080, address: '127.0.0.1' }), state))).toMatchObject({
      code: 'SLUICE_PORT_CONFLICT',
      path: '/port',
    });
    expect(errorOf(() => checkListenerPlacement(normalizeListener('x', { port: 9090 }), state)).code).toBe('SLUICE_PORT_CONFLICT');
    expect(() => checkListenerPlacement(normalizeListener('x', { port: 9090, address: '10.0.0.2' }), state)).not.toThrow();
    expect(() => checkListenerPlacement(normalizeListener('default', { port: 8080 }), state)).not.toThrow();
  });

  it('lets listeners for disjoint node clusters share a port, but not overlapping ones', () => {
    const edgeOnly = { ...state, listeners: { edge: normalizeListener('edge', { port: 7000, nodes: { clusters: ['edge'] } }) } };
    expect(() => checkListenerPlacement(normalizeListener('mesh', { port: 7000, nodes: { clusters: ['mesh'] } }), edgeOnly)).not.toThrow();
    expect(errorOf(() => checkListenerPlacement(normalizeListener('both', { port: 7000, nodes: { clusters: ['mesh', 'edge'] } }), edgeOnly)).code).toBe(
      'SLUICE_PORT_CONFLICT',
    );
    expect(errorOf(() => checkListenerPlacement(normalizeListener('all', { port: 7000 }), edgeOnly)).code).toBe('SLUICE_PORT_CONFLICT');
    expect(normalizeListener('m', { port: 1, nodes: { clusters: ['b', 'a'] } }).nodes).toEqual({ clusters: ['a', 'b'] });
  });

  it('requires listener addresses to be IP addresses', () => {
    expect(normalizeListener('x', { port: 1 })).toEqual({ name: 'x', address: '0.0.0.0', port: 1 });
    expect(errorOf(() => normalizeListener('x', { port: 1, address: 'localhost' }))).toMatchObject({ path: '/address' });
  });
});

describe('validateState', () => {
  it('accepts a consistent state and rejects one with a dangling listener reference', () => {
    const service = normalizeService('predict', body());
    expect(() => validateState({ ...state, services: { predict: service } })).not.toThrow();
    expect(errorOf(() => validateState({ ...state, services: { predict: { ...service, listener: 'gone' } } })).code).toBe(
      'SLUICE_UNKNOWN_LISTENER',
    );
  });

  it('rejects a stored service whose weights no longer sum to 100', () => {
    const service = normalizeService('predict', body());
    const broken = { ...service, weights: { blue: 50, green: 0 } };
    expect(errorOf(() => validateState({ ...state, services: { predict: broken } })).code).toBe('SLUICE_WEIGHTS_SUM');
  });

  it.each([
    ['a grpc service checked by path', { protocol: 'grpc' as const, healthCheck: { path: '/healthz', interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 } }, '/healthCheck/path'],
    ['an http1 service checked by gRPC service name', { healthCheck: { grpcService: 'x', interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 } }, '/healthCheck/grpcService'],
    ['an http2 service checked without a path', { protocol: 'http2' as const, healthCheck: { interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 } }, '/healthCheck/path'],
  ])('rejects a stored state holding %s', (_, extra, path) => {
    const service = { ...normalizeService('predict', body()), ...extra };
    expect(errorOf(() => validateState({ ...state, services: { predict: service } }))).toMatchObject({ code: 'SLUICE_INVALID_BODY', path });
  });
});
