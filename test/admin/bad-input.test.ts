// Bad input through the admin API: each refusal has its status, code and JSON pointer, and
// leaves the state and the audit log exactly as they were.

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness({ deps: { bodyLimit: 4096 } });
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
});
afterEach(async () => {
  await h.cleanup();
});

/** Asserts the coded error and that neither the state nor the audit log moved. */
async function expectRefused(
  request: Promise<LightMyRequestResponse>,
  expected: { status: number; code: string; path?: string },
): Promise<{ code: string; message: string; path?: string }> {
  const before = h.store.current();
  const auditBefore = await h.store.audit({ limit: 100 });
  const res = await request;
  expect(res.statusCode).toBe(expected.status);
  const { error } = res.json() as { error: { code: string; message: string; path?: string } };
  expect(error.code).toBe(expected.code);
  expect(error.path).toBe(expected.path);
  expect(error.message.length).toBeGreaterThan(10);
  expect(h.store.current()).toBe(before);
  expect(await h.store.audit({ limit: 100 })).toEqual(auditBefore);
  return error;
}

describe('bad input is refused with a code and a path, and changes nothing', () => {
  it('weights summing to 99', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 9 }), {
      status: 422,
      code: 'SLUICE_WEIGHTS_SUM',
      path: '',
    });
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), weights: { blue: 90, green: 9 } }), {
      status: 422,
      code: 'SLUICE_WEIGHTS_SUM',
      path: '/weights',
    });
  });

  it('a weight with more than two decimals', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 66.667, green: 33.333 }), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/blue',
    });
  });

  it('a weight for an unknown version', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), weights: { blue: 50, red: 50 } }), {
      status: 422,
      code: 'SLUICE_UNKNOWN_VERSION',
      path: '/weights/red',
    });
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 50, red: 50 }), {
      status: 422,
      code: 'SLUICE_UNKNOWN_VERSION',
      path: '/red',
    });
    await expectRefused(send(h.app, 'POST', '/v1/services/predict/promote', { version: 'red' }), {
      status: 422,
      code: 'SLUICE_UNKNOWN_VERSION',
      path: '/version',
    });
  });

  it('duplicate version names', async () => {
    const body = predictBody();
    body['versions'] = [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
    ];
    body['weights'] = { blue: 100 };
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', body), {
      status: 422,
      code: 'SLUICE_DUPLICATE_VERSION',
      path: '/versions/1/name',
    });
  });

  it('port 70000', async () => {
    const body = predictBody();
    body['versions'] = [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 70000 }] }];
    const error = await expectRefused(send(h.app, 'PUT', '/v1/services/predict', body), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/versions/0/endpoints/0/port',
    });
    expect(error.message).toContain('65535');
    await expectRefused(send(h.app, 'PUT', '/v1/listeners/default', { port: 70000 }), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/port',
    });
  });

  it('a missing required field, pointed at by name', async () => {
    const body = predictBody();
    body['versions'] = [{ name: 'blue', endpoints: [{ address: '127.0.0.1' }] }];
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', body), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/versions/0/endpoints/0/port',
    });
  });

  it('malformed JSON, whatever the content type', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', '{"match": '), { status: 400, code: 'SLUICE_MALFORMED_JSON' });
    await expectRefused(
      h.app.inject({ method: 'PUT', url: '/v1/services/predict/weights', headers: { 'content-type': 'application/json' }, payload: 'blue=100' }),
      { status: 400, code: 'SLUICE_MALFORMED_JSON' },
    );
  });

  it('a body that is not an object, or no body where one is needed', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', [1, 2]), { status: 400, code: 'SLUICE_INVALID_BODY', path: '' });
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict'), { status: 400, code: 'SLUICE_INVALID_BODY', path: '' });
    await expectRefused(send(h.app, 'POST', '/v1/services/predict/rollback', { to: 'blue' }), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '',
    });
  });

  it('a body over the size limit', async () => {
    const body = predictBody();
    body['hosts'] = Array.from({ length: 400 }, (_, i) => `host-${i}.example.com`);
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', body), { status: 413, code: 'SLUICE_BODY_TOO_LARGE' });
  });

  it('a stale If-Match', async () => {
    const error = await expectRefused(
      send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 50, green: 50 }, { 'if-match': '"0"' }),
      { status: 412, code: 'SLUICE_REVISION_MISMATCH' },
    );
    expect(error.message).toContain('revision 1');
  });

  it.each(['abc', '"1', 'W/"1"', '*', '1.5', '-1'])('a malformed If-Match %j', async (ifMatch) => {
    await expectRefused(send(h.app, 'POST', '/v1/services/predict/rollback', undefined, { 'if-match': ifMatch }), {
      status: 400,
      code: 'SLUICE_INVALID_HEADER',
    });
  });

  it('an unknown field', async () => {
    const error = await expectRefused(send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), colour: 'green' }), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/colour',
    });
    expect(error.message).toContain('colour');
  });

  it.each([
    ['an unknown version in a rule', { rules: [{ match: { headers: { 'x-tenant': 'acme' } }, to: 'purple' }] }, 422, 'SLUICE_UNKNOWN_VERSION', '/rules/0/to'],
    ['an unknown mirror version', { mirror: { to: 'purple', percent: 5 } }, 422, 'SLUICE_UNKNOWN_VERSION', '/mirror/to'],
    ['a mirror percent over 100', { mirror: { to: 'green', percent: 101 } }, 400, 'SLUICE_INVALID_BODY', '/mirror/percent'],
    ['an unknown shadow version', { shadow: { to: 'purple', percent: 5, compare: { kind: 'json-equal' } } }, 422, 'SLUICE_UNKNOWN_VERSION', '/shadow/to'],
    ['a shadow of the stable version (it would compute twice)', { shadow: { to: 'blue', percent: 5, compare: { kind: 'json-equal' } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/to'],
    ['a shadow beside a mirror', { mirror: { to: 'green', percent: 5 }, shadow: { to: 'green', percent: 5, compare: { kind: 'json-equal' } } }, 400, 'SLUICE_INVALID_BODY', '/shadow'],
    ['a shadow percent with three decimals', { shadow: { to: 'green', percent: 5.125, compare: { kind: 'json-equal' } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/percent'],
    ['a numeric comparison without a path', { shadow: { to: 'green', percent: 5, compare: { kind: 'numeric', absolute: 0.1 } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/compare/path'],
    ['a path on an oip comparison', { shadow: { to: 'green', percent: 5, compare: { kind: 'oip', path: '/outputs' } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/compare/path'],
    ['a tolerance on a label comparison', { shadow: { to: 'green', percent: 5, compare: { kind: 'label', path: '/label', relative: 0.1 } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/compare/relative'],
    ['an unknown comparison kind', { shadow: { to: 'green', percent: 5, compare: { kind: 'fuzzy' } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/compare/kind'],
    ['a path that is not a JSON pointer', { shadow: { to: 'green', percent: 5, compare: { kind: 'numeric', path: 'prediction' } } }, 400, 'SLUICE_INVALID_BODY', '/shadow/compare/path'],
    ['an empty header name for version affinity', { affinity: { version: { by: 'header', name: '' } } }, 400, 'SLUICE_INVALID_BODY', '/affinity/version/name'],
    ['an empty hash header name', { affinity: { hash: [{ header: '' }] } }, 400, 'SLUICE_INVALID_BODY', '/affinity/hash/0/header'],
    ['a negative cookie ttl', { affinity: { hash: [{ cookie: 'sid', ttl: '-5s' }] } }, 400, 'SLUICE_INVALID_BODY', '/affinity/hash/0/ttl'],
    ['a header affinity without a name', { affinity: { version: { by: 'header' } } }, 400, 'SLUICE_INVALID_BODY', '/affinity/version/name'],
    ['a hash key naming two inputs', { affinity: { hash: [{ header: 'x-user-id', sourceIp: true }] } }, 400, 'SLUICE_INVALID_BODY', '/affinity/hash/0'],
    ['a ttl on a header hash key', { affinity: { hash: [{ header: 'x-user-id', ttl: '1h' }] } }, 400, 'SLUICE_INVALID_BODY', '/affinity/hash/0/ttl'],
    [
      'a replica hash on another key than the version key',
      { affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-session' }] } },
      422,
      'SLUICE_AFFINITY_CONFLICT',
      '/affinity/hash/0',
    ],
    ['a health check timeout longer than its interval', { healthCheck: { interval: '1s', timeout: '2s' } }, 400, 'SLUICE_INVALID_BODY', '/healthCheck/timeout'],
    ['a zero outlier interval', { outlierDetection: { interval: '0s' } }, 400, 'SLUICE_INVALID_BODY', '/outlierDetection/interval'],
    ['an outlier ejection percent over 100', { outlierDetection: { maxEjectionPercent: 150 } }, 400, 'SLUICE_INVALID_BODY', '/outlierDetection/maxEjectionPercent'],
    ['an unknown affinity kind', { affinity: { version: { by: 'astrology' } } }, 400, 'SLUICE_INVALID_BODY', '/affinity/version/by'],
    ['an unknown upstream protocol', { protocol: 'http3' }, 400, 'SLUICE_INVALID_BODY', '/protocol'],
    ['an upstream protocol in capitals', { protocol: 'GRPC' }, 400, 'SLUICE_INVALID_BODY', '/protocol'],
    ['a health check path on a grpc service', { protocol: 'grpc', healthCheck: { path: '/healthz' } }, 400, 'SLUICE_INVALID_BODY', '/healthCheck/path'],
    ['a gRPC health service name on an http1 service', { healthCheck: { grpcService: 'inference' } }, 400, 'SLUICE_INVALID_BODY', '/healthCheck/grpcService'],
    ['a gRPC health service name on an http2 service', { protocol: 'http2', healthCheck: { grpcService: 'inference' } }, 400, 'SLUICE_INVALID_BODY', '/healthCheck/grpcService'],
    ['a gRPC health service name with a space', { protocol: 'grpc', healthCheck: { grpcService: 'my service' } }, 400, 'SLUICE_INVALID_BODY', '/healthCheck/grpcService'],
  ] as const)('%s', async (_, extra, status, code, path) => {
    const before = h.store.current();
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), ...extra }), { status, code, path });
    expect(h.store.current()).toBe(before);
  });

  it('accepts the PRODUCT.md service whole: affinity, pin header, mirror and timeout', async () => {
    const body = {
      ...predictBody(),
      affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }] },
      mirror: { to: 'green', percent: 5 },
    };
    const response = await send(h.app, 'PUT', '/v1/services/predict', body);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }], lb: 'ringHash' },
      mirror: { to: 'green', percent: 5 },
    });
  });

  it('accepts a shadow and fills what a disagreement keeps', async () => {
    const response = await send(h.app, 'PUT', '/v1/services/predict', {
      ...predictBody(),
      shadow: { to: 'green', percent: 20, compare: { kind: 'numeric', path: '/prediction', relative: 0.01 } },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().shadow).toEqual({ to: 'green', percent: 20, compare: { kind: 'numeric', path: '/prediction', relative: 0.01 }, keep: 'answers' });
  });

  it('accepts a grpc service with a gRPC health check, and fills an http1 one\'s path', async () => {
    const grpc = await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), protocol: 'grpc', healthCheck: { grpcService: 'inference.GRPCInferenceService' } });
    expect(grpc.statusCode).toBe(200);
    expect(grpc.json()).toMatchObject({ protocol: 'grpc', healthCheck: { grpcService: 'inference.GRPCInferenceService', interval: '5s' } });
    expect(grpc.json().healthCheck.path).toBeUndefined();
    const http2 = await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), protocol: 'http2', healthCheck: {} });
    expect(http2.statusCode).toBe(200);
    expect(http2.json()).toMatchObject({ protocol: 'http2', healthCheck: { path: '/healthz' } });
  });

  it('an unknown field deep inside the body', async () => {
    const body = predictBody();
    body['versions'] = [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001, weight: 3 }] }];
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict', body), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/versions/0/endpoints/0/weight',
    });
  });

  it('a string where a number belongs is not coerced', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/predict/weights', { blue: '100' }), {
      status: 400,
      code: 'SLUICE_INVALID_BODY',
      path: '/blue',
    });
  });

  it('bad names, headers, timeouts and prefixes, with readable messages', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ pinHeader: 'X-Version' }, '/pinHeader'],
      [{ timeout: '30' }, '/timeout'],
      [{ match: { prefix: 'predict' } }, '/match/prefix'],
      [{ hosts: ['exa mple.com'] }, '/hosts/0'],
      [{ name: 'other' }, '/name'],
      [{ versions: [{ name: 'Blue', endpoints: [{ address: 'a', port: 1 }] }] }, '/versions/0/name'],
    ];
    for (const [override, path] of cases) {
      await expectRefused(send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), ...override }), {
        status: 400,
        code: 'SLUICE_INVALID_BODY',
        path,
      });
    }
    await expectRefused(send(h.app, 'PUT', '/v1/services/Predict', predictBody()), { status: 400, code: 'SLUICE_INVALID_PARAM', path: '/name' });
  });

  it('references that do not resolve and routes that collide', async () => {
    await expectRefused(send(h.app, 'PUT', '/v1/services/other', { ...predictBody(), listener: 'edge' }), {
      status: 422,
      code: 'SLUICE_UNKNOWN_LISTENER',
      path: '/listener',
    });
    await expectRefused(send(h.app, 'PUT', '/v1/services/other', predictBody()), {
      status: 409,
      code: 'SLUICE_ROUTE_CONFLICT',
      path: '/match/prefix',
    });
    await expectRefused(send(h.app, 'POST', '/v1/services/nope/rollback'), { status: 404, code: 'SLUICE_SERVICE_NOT_FOUND' });
  });

  it('unknown routes and unreadable URLs', async () => {
    await expectRefused(send(h.app, 'GET', '/v2/services'), { status: 404, code: 'SLUICE_NOT_FOUND' });
    await expectRefused(send(h.app, 'PATCH', '/v1/services/predict', {}), { status: 404, code: 'SLUICE_NOT_FOUND' });
    await expectRefused(send(h.app, 'GET', '/v1/services/%E0%A4%A'), { status: 400, code: 'SLUICE_BAD_REQUEST' });
  });
});
