// The admin token: which calls need it (changes always, reads only with `reads`, health,
// readiness and the API description never), the 401 for a missing, malformed or wrong token
// (nothing changes), the audit's actor for an authenticated call, and the token never reaching
// a log line, even when a request's headers are logged whole.

import { afterEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

const TOKEN = 's3cret-admin-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let h: Harness;
afterEach(async () => {
  await h.cleanup();
});

async function expectUnauthorized(response: Promise<{ statusCode: number; json(): any; headers: Record<string, unknown> }>) {
  const res = await response;
  expect(res.statusCode).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="sluice"');
  const { error } = res.json();
  expect(error.code).toBe('SLUICE_UNAUTHORIZED');
  expect(JSON.stringify(error)).not.toContain(TOKEN);
  return error as { message: string };
}

describe('without a token configured', () => {
  it('takes changes from anyone and records them as "admin"', async () => {
    h = await openHarness();
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
    expect((await h.store.audit({ limit: 1 }))[0]?.actor).toBe('admin');
  });
});

describe('with a token for changes', () => {
  it('refuses a change without the token, with a malformed header or a wrong token, and changes nothing', async () => {
    h = await openHarness({ deps: { auth: { token: TOKEN, reads: false } } });
    const missing = await expectUnauthorized(send(h.app, 'PUT', '/v1/services/predict', predictBody()));
    expect(missing.message).toMatch(/Authorization: Bearer <token>/);
    const basic = await expectUnauthorized(send(h.app, 'PUT', '/v1/services/predict', predictBody(), { authorization: `Basic ${TOKEN}` }));
    expect(basic.message).toMatch(/must be "Bearer <token>"/);
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), 'x', TOKEN.toUpperCase()]) {
      const error = await expectUnauthorized(send(h.app, 'PUT', '/v1/services/predict', predictBody(), bearer(wrong)));
      expect(error.message).toBe('The admin token is not valid.');
    }
    await expectUnauthorized(send(h.app, 'POST', '/v1/revisions/1/restore'));
    await expectUnauthorized(send(h.app, 'DELETE', '/v1/listeners/default'));
    // A change to a route that does not exist is refused the same way: nothing is revealed.
    await expectUnauthorized(send(h.app, 'POST', '/v1/nothing-here'));
    expect(h.store.current().revision).toBe(0);
    expect(await h.store.audit({ limit: 10 })).toEqual([]);
  });

  it('takes a change with the token (any case of "Bearer") and records it as "token" unless X-Sluice-Actor names someone', async () => {
    h = await openHarness({ deps: { auth: { token: TOKEN, reads: false } } });
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody(), bearer(TOKEN))).statusCode).toBe(200);
    const shift = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 }, {
      authorization: `bearer  ${TOKEN} `,
      'x-sluice-actor': 'alice',
    });
    expect(shift.statusCode).toBe(200);
    expect((await h.store.audit({ limit: 10 })).map((e) => e.actor)).toEqual(['alice', 'token']);
  });

  it('leaves reads open', async () => {
    h = await openHarness({ deps: { auth: { token: TOKEN, reads: false } } });
    for (const url of ['/v1/services', '/v1/listeners/default', '/v1/audit', '/v1/revisions', '/v1/proxies', '/healthz']) {
      expect((await send(h.app, 'GET', url)).statusCode, url).toBe(200);
    }
  });
});

describe('with a token for reads too', () => {
  it('refuses reads without the token, except health, readiness and the API description', async () => {
    h = await openHarness({ deps: { auth: { token: TOKEN, reads: true } } });
    for (const url of ['/v1/services', '/v1/listeners/default', '/v1/audit', '/v1/revisions', '/v1/proxies', '/v1/unknown']) {
      await expectUnauthorized(send(h.app, 'GET', url));
      expect((await send(h.app, 'GET', url, undefined, bearer('nope'))).statusCode, url).toBe(401);
    }
    for (const url of ['/v1/services', '/v1/listeners/default', '/v1/audit', '/v1/revisions', '/v1/proxies']) {
      expect((await send(h.app, 'GET', url, undefined, bearer(TOKEN))).statusCode, url).toBe(200);
    }
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/', '/docs/json']) {
      expect((await send(h.app, 'GET', url)).statusCode, url).toBe(200);
    }
  });
});

describe('logs', () => {
  it('never hold the token: refusals name no token, and logged headers are redacted', async () => {
    h = await openHarness({
      deps: { auth: { token: TOKEN, reads: true } },
      beforeReady: (app) => {
        // Log every request's headers whole, the worst a future change could do.
        app.addHook('onRequest', async (request) => {
          request.log.info({ headers: request.headers }, 'request headers');
        });
        app.get('/v1/fail', async () => {
          throw new Error('boom');
        });
      },
    });
    await send(h.app, 'PUT', '/v1/services/predict', predictBody(), bearer(TOKEN));
    await send(h.app, 'PUT', '/v1/services/predict', predictBody(), bearer(`${TOKEN}-wrong`));
    await send(h.app, 'GET', '/v1/fail', undefined, bearer(TOKEN));
    h.app.log.warn({ request: { headers: { authorization: `Bearer ${TOKEN}` } } }, 'nested headers');

    const lines = h.logs.map((line) => JSON.stringify(line));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((line) => line.includes(TOKEN))).toEqual([]);
    const logged = h.logs.filter((line) => line['msg'] === 'request headers');
    expect(logged).toHaveLength(3);
    for (const line of logged) expect((line['headers'] as Record<string, unknown>)['authorization']).toBe('[redacted]');
    expect(h.logs.find((line) => line['msg'] === 'nested headers')?.['request']).toEqual({ headers: { authorization: '[redacted]' } });
    expect(h.logs.filter((line) => line['msg'] === 'admin call refused: no valid token')).toHaveLength(1);
  });
});
