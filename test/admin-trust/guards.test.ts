// The admin API's guards through inject(): changes from another origin's page refused (Origin,
// Sec-Fetch-Site) with nothing changed while curl-like and same-origin changes pass; the Host
// check (loopback names, the bind address, configured names; probes under any host); the
// security headers on answers and refusals; the request log and error bodies free of a token
// sent in the query string.

import { afterEach, describe, expect, it } from 'vitest';
import { adminHostNames, hostNameOf } from '../../src/admin/host-guard.js';
import { DOCS_POLICY } from '../../src/admin/security-headers.js';
import { openHarness, predictBody, send, type Harness } from '../admin/harness.js';

const OWN = { host: '127.0.0.1:9000' };

let h: Harness;
afterEach(async () => {
  await h.cleanup();
});

async function revision(): Promise<number> {
  return (await send(h.app, 'GET', '/v1/services', undefined, OWN)).json().revision as number;
}

describe('changes from web pages', () => {
  it('refuses a change whose Origin is another origin, whatever its content type, and changes nothing', async () => {
    h = await openHarness();
    for (const origin of ['http://evil.example', 'http://127.0.0.1:9001', 'https://127.0.0.1:9000', 'null', 'not a url']) {
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json']) {
        const res = await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { ...OWN, origin, 'content-type': contentType });
        expect(res.statusCode, `${origin} ${contentType}`).toBe(403);
        expect(res.json().error.code).toBe('SLUICE_CROSS_ORIGIN');
      }
    }
    const restore = await send(h.app, 'POST', '/v1/revisions/1/restore', '', { ...OWN, origin: 'http://evil.example' });
    expect(restore.json().error.code).toBe('SLUICE_CROSS_ORIGIN');
    expect(await revision()).toBe(0);
    expect(await h.store.audit({ limit: 10 })).toEqual([]);
  });

  it('refuses a change a browser marks cross-site or same-site, with or without Origin', async () => {
    h = await openHarness();
    for (const site of ['cross-site', 'same-site', 'Cross-Site']) {
      const res = await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { ...OWN, 'sec-fetch-site': site });
      expect(res.statusCode, site).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'SLUICE_CROSS_ORIGIN', message: expect.stringContaining(site) });
    }
    expect(await revision()).toBe(0);
  });

  it('takes changes without browser headers (curl, the CLI) and from its own origin', async () => {
    h = await openHarness();
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody(), OWN)).statusCode).toBe(200);
    const sameOrigin = { ...OWN, origin: 'http://127.0.0.1:9000', 'sec-fetch-site': 'same-origin' };
    expect((await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 50, green: 50 }, sameOrigin)).statusCode).toBe(200);
    // A request the user typed (Sec-Fetch-Site: none) and the origin spelled with its default port.
    const typed = { host: 'localhost', origin: 'http://LOCALHOST:80', 'sec-fetch-site': 'none' };
    expect((await send(h.app, 'POST', '/v1/services/predict/rollback', '', typed)).statusCode).toBe(200);
    expect(await revision()).toBe(3);
  });

  it('lets reads through from any origin (the browser keeps the answer from the page)', async () => {
    h = await openHarness();
    const res = await send(h.app, 'GET', '/v1/services', undefined, { ...OWN, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses before the token is checked or the rate limit counts', async () => {
    const token = 'a-token-0123456789';
    h = await openHarness({ deps: { auth: { token, reads: false }, mutationRateLimit: 1 } });
    const headers = { ...OWN, origin: 'http://evil.example', authorization: `Bearer ${token}` };
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody(), headers)).json().error.code).toBe('SLUICE_CROSS_ORIGIN');
    expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { ...OWN, authorization: `Bearer ${token}` })).statusCode).toBe(200);
  });
});

describe('the Host check', () => {
  it('answers under loopback names, the bind address and configured names, any port', async () => {
    h = await openHarness({ deps: { hostNames: adminHostNames('10.0.0.5', ['sluice.internal']) } });
    for (const host of ['127.0.0.1:9000', 'localhost', 'LOCALHOST:1234', '[::1]:9000', '10.0.0.5:9000', 'sluice.internal', 'Sluice.Internal.:443']) {
      expect((await send(h.app, 'GET', '/v1/services', undefined, { host })).statusCode, host).toBe(200);
    }
  });

  it('refuses any other host with 421, reads and changes alike, and changes nothing', async () => {
    h = await openHarness({ deps: { hostNames: adminHostNames('0.0.0.0', []) } });
    for (const host of ['evil.example:9000', 'evil.example', '0.0.0.0:9000', '127.0.0.2', 'localhost.evil.example', 'sluice.internal', '127.0.0.1:9000:1']) {
      const read = await send(h.app, 'GET', '/v1/services', undefined, { host });
      expect(read.statusCode, host).toBe(421);
      expect(read.json().error.code).toBe('SLUICE_UNKNOWN_HOST');
      expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { host })).statusCode).toBe(421);
      expect((await send(h.app, 'GET', '/openapi.json', undefined, { host })).statusCode).toBe(421);
    }
    expect(await revision()).toBe(0);
  });

  it('answers /healthz and /readyz under any host (probes send the pod address)', async () => {
    h = await openHarness({ deps: { hostNames: adminHostNames('127.0.0.1', []) } });
    expect((await send(h.app, 'GET', '/healthz', undefined, { host: '10.244.1.7:9000' })).statusCode).toBe(200);
    expect((await send(h.app, 'GET', '/readyz?x=1', undefined, { host: '10.244.1.7:9000' })).statusCode).toBe(200);
    expect((await send(h.app, 'GET', '/healthz/x', undefined, { host: '10.244.1.7:9000' })).statusCode).toBe(421);
  });

  it('reads the name of every Host header form', () => {
    expect(hostNameOf('example.com:80')).toBe('example.com');
    expect(hostNameOf('[::1]:9000')).toBe('::1');
    expect(hostNameOf('[::1]')).toBe('::1');
    expect(hostNameOf('::1')).toBeUndefined();
    expect(hostNameOf('a:b:c')).toBeUndefined();
    expect(hostNameOf('')).toBeUndefined();
    expect(adminHostNames('::', ['[fd00::1]'])).toEqual(['localhost', '127.0.0.1', '::1', 'fd00::1']);
  });
});

describe('security headers', () => {
  const common = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  };

  it('are on answers, errors and refusals; the API allows no content, /docs its own', async () => {
    h = await openHarness({ deps: { hostNames: adminHostNames('127.0.0.1', []) } });
    const answers = [
      await send(h.app, 'GET', '/v1/services', undefined, OWN),
      await send(h.app, 'GET', '/nowhere', undefined, OWN),
      await send(h.app, 'GET', '/v1/services', undefined, { host: 'evil.example' }),
      await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { ...OWN, origin: 'http://evil.example' }),
      await send(h.app, 'PUT', '/v1/services/predict', '{', OWN),
    ];
    expect(answers.map((res) => res.statusCode)).toEqual([200, 404, 421, 403, 400]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({ ...common, 'content-security-policy': expect.stringContaining("default-src 'none'") });
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy']).not.toContain('script-src');
    }
    for (const url of ['/docs', '/docs/', '/docs/static/swagger-ui-bundle.js', '/docs/json']) {
      const res = await send(h.app, 'GET', url, undefined, OWN);
      expect(res.statusCode, url).toBeLessThan(400);
      expect(res.headers, url).toMatchObject({ ...common, 'content-security-policy': DOCS_POLICY });
    }
  });
});

describe('a token in the query string', () => {
  it('never reaches the request log or an error body', async () => {
    h = await openHarness();
    const secret = 'query-secret-0123456789';
    expect((await send(h.app, 'GET', `/v1/audit?limit=5&token=${secret}`, undefined, OWN)).statusCode).toBeLessThan(500);
    const missing = await send(h.app, 'GET', `/nowhere?access_token=${secret}`, undefined, OWN);
    expect(missing.json().error).toMatchObject({ code: 'SLUICE_NOT_FOUND', message: 'No route for GET /nowhere.' });
    const urls = h.logs.map((line) => (line['req'] as { url?: string } | undefined)?.url).filter((url) => url !== undefined);
    expect(urls).toEqual(['/v1/audit?limit=5&[redacted]', '/nowhere?[redacted]']);
    expect(JSON.stringify(h.logs)).not.toContain(secret);
  });
});
