// The web console's files through inject(): `/` and `/console/*` served from the directory given
// as consoleRoot under the console's own CSP, open without a token even when reads need one (they
// carry no state) while the API still asks for it; a directory without the bundle answers 503
// saying how to build it; the files are hidden from the OpenAPI document.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/admin/app.js';
import { CONSOLE_POLICY } from '../../src/admin/security-headers.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { ProxyReporter } from '../../src/sync/proxy-report.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { INITIAL_STATE } from './harness.js';

const TOKEN = 'console-files-token';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function appServing(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'sluice-console-files-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  const store = await Store.open(SqliteAdapter.open(':memory:'), { initialState: INITIAL_STATE });
  const app = buildAdminApp({
    store,
    fleet: new ProxyReporter(new FleetStatus(), new RevisionLedger(), store),
    logger: pino({ level: 'silent' }),
    isReady: () => true,
    consoleRoot: root,
    auth: { token: TOKEN, reads: true },
  });
  cleanups.push(() => rmSync(root, { recursive: true, force: true }), () => store.close(), () => app.close());
  return app;
}

describe('the web console files', () => {
  it('serves the page and its bundle without a token under the console CSP; the API keeps asking for it', async () => {
    const app = await appServing({ 'index.html': '<!doctype html><title>sluice</title>', 'app.js': 'export {};\n' });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_POLICY);
    expect(page.body).toContain('<title>sluice</title>');
    const script = await app.inject({ method: 'GET', url: '/console/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-security-policy']).toBe(CONSOLE_POLICY);
    // Only the bundle's files are open: any other URL is an unknown route, which reads need the token for.
    expect((await app.inject({ method: 'GET', url: '/console/missing.js' })).statusCode).toBe(401);

    const api = await app.inject({ method: 'GET', url: '/v1/services' });
    expect(api.statusCode).toBe(401);
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    // Nothing but reading the files: a change to `/` finds no route (and, like any, needs the token first).
    expect((await app.inject({ method: 'POST', url: '/', payload: {} })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/', payload: {}, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404);
  });

  it('answers 503 with how to build it when the bundle is missing', async () => {
    const app = await appServing({});
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toMatch(/npm run build/);
  });

  it('keeps the files out of the OpenAPI document', async () => {
    const app = await appServing({ 'index.html': '<!doctype html>', 'app.js': '' });
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path === '/' || path.startsWith('/console'))).toEqual([]);
  });
});
