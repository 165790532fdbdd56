// Names that are also JavaScript internals. "constructor" is a valid name (lowercase letters) and
// works like any other for a service, a listener and a version, in weights too; it never stands in
// for a missing listener or weight. Names the pattern refuses ("__proto__", "toString",
// "hasOwnProperty") are refused like any malformed name: a code, the path, a plain message.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const endpoint = (port: number) => [{ address: '127.0.0.1', port }];
const INTERNALS = /native code|prototype|function |\[object|undefined|NaN/;

function expectRefusal(res: { statusCode: number; body: string; json(): any }, status: number, code: string, path: string | undefined): void {
  expect(res.statusCode, res.body).toBe(status);
  const { error } = res.json();
  expect(error.code).toBe(code);
  expect(error.path).toBe(path);
  expect(error.message).not.toMatch(INTERNALS);
}

describe('"constructor" as a name', () => {
  it('is a service, a listener and a version like any other', async () => {
    const listener = await send(h.app, 'PUT', '/v1/listeners/constructor', { port: 9001 });
    expect(listener.statusCode, listener.body).toBe(200);
    const body = {
      ...predictBody(),
      listener: 'constructor',
      versions: [
        { name: 'blue', endpoints: endpoint(5001) },
        { name: 'constructor', endpoints: endpoint(5002) },
      ],
      // The version "constructor" is left out of the weights: it gets 0, not Object's constructor.
      weights: { blue: 100 },
    };
    const put = await send(h.app, 'PUT', '/v1/services/constructor', body);
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ name: 'constructor', listener: 'constructor', weights: { blue: 100, constructor: 0 } });

    const shifted = await send(h.app, 'PUT', '/v1/services/constructor/weights', { blue: 40, constructor: 60 });
    expect(shifted.statusCode, shifted.body).toBe(200);
    expect(shifted.json().weights).toEqual({ blue: 40, constructor: 60 });
    const promoted = await send(h.app, 'POST', '/v1/services/constructor/promote', { version: 'constructor' });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json()).toMatchObject({ stable: 'constructor', weights: { blue: 0, constructor: 100 } });

    expect((await send(h.app, 'GET', '/v1/services/constructor')).json()).toMatchObject({ name: 'constructor' });
    expect((await send(h.app, 'GET', '/v1/listeners/constructor')).json()).toMatchObject({ name: 'constructor', port: 9001 });
    expect((await send(h.app, 'DELETE', '/v1/services/constructor')).statusCode).toBe(200);
    expect((await send(h.app, 'DELETE', '/v1/listeners/constructor')).statusCode).toBe(200);
  });

  it('is not found while nothing has that name, and no service can be placed on a listener "constructor" that does not exist', async () => {
    expectRefusal(await send(h.app, 'GET', '/v1/services/constructor'), 404, 'SLUICE_SERVICE_NOT_FOUND', undefined);
    expectRefusal(await send(h.app, 'GET', '/v1/listeners/constructor'), 404, 'SLUICE_LISTENER_NOT_FOUND', undefined);
    expectRefusal(await send(h.app, 'GET', '/v1/services/constructor/rollout'), 404, 'SLUICE_SERVICE_NOT_FOUND', undefined);
    const before = h.store.current();
    // Would otherwise be a service (and its clusters) on no listener at all.
    expectRefusal(
      await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), listener: 'constructor' }),
      422,
      'SLUICE_UNKNOWN_LISTENER',
      '/listener',
    );
    expect(h.store.current()).toBe(before);
  });

  it('is refused as a weight for a version that does not exist', async () => {
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
    expectRefusal(await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 50, constructor: 50 }), 422, 'SLUICE_UNKNOWN_VERSION', '/constructor');
    expectRefusal(
      await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), weights: { blue: 50, constructor: 50 } }),
      422,
      'SLUICE_UNKNOWN_VERSION',
      '/weights/constructor',
    );
  });
});

describe.each(['__proto__', 'toString', 'hasOwnProperty'])('"%s" as a name', (name) => {
  it('is refused for a service, a listener and a version, and in weights, naming the field', async () => {
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
    const before = h.store.current();
    expectRefusal(await send(h.app, 'PUT', `/v1/services/${name}`, predictBody()), 400, 'SLUICE_INVALID_PARAM', '/name');
    expectRefusal(await send(h.app, 'PUT', `/v1/listeners/${name}`, { port: 9001 }), 400, 'SLUICE_INVALID_PARAM', '/name');
    expectRefusal(await send(h.app, 'PUT', '/v1/services/other', { ...predictBody(), match: { prefix: '/o' }, listener: name }), 400, 'SLUICE_INVALID_BODY', '/listener');
    const withVersion = { ...predictBody(), versions: [{ name: 'blue', endpoints: endpoint(5001) }, { name, endpoints: endpoint(5002) }], weights: { blue: 100 } };
    expectRefusal(await send(h.app, 'PUT', '/v1/services/predict', withVersion), 400, 'SLUICE_INVALID_BODY', '/versions/1/name');
    // Raw JSON, so that "__proto__" is a key of the body and not the object's prototype.
    const weights = `{"blue": 50, "${name}": 50}`;
    expectRefusal(await send(h.app, 'PUT', '/v1/services/predict/weights', JSON.parse(weights)), 400, 'SLUICE_INVALID_BODY', `/${name}`);
    expect(h.store.current()).toBe(before);
  });
});
