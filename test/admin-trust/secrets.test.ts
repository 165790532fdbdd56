// Secrets stay secret, through real processes: sluice serves with a token file (SQLite) or a
// token variable and a postgres:// store URL with a password; the API is used with the token in
// the header and in query strings, with wrong tokens, failing calls and (PostgreSQL) the store
// gone; then everything sluice wrote — stdout, stderr, the audit log, /metrics, the OpenAPI
// document (both URLs) and error bodies — is searched for each secret. A store that cannot be
// opened stops the start naming its URL without the password.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { freePort } from '../support/ports.js';
import { runSluice, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';

const TOKEN = 'tok-5e3f0c9a7b1d4e2f';
const WRONG_TOKEN = 'wrong-8d2c6b4a0e9f1357';
const PASSWORD = 'pw-71c3e9a05b8d2f46';
const SERVICE = blueGreenService({ port: 5001 }, { port: 5002 }, { listener: 'default' });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  texts: string[];
}

/** Sends a call and keeps what came back (status line and body) for the search. */
async function call(seen: Seen, url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<number> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  seen.texts.push(`${response.status} ${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${text}`);
  return response.status;
}

/** The token in the header, in query strings, wrong, and calls that fail; then what sluice serves about itself. */
async function exercise(sluice: SluiceProcess, seen: Seen): Promise<void> {
  const admin = sluice.adminUrl;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  expect(await call(seen, `${admin}/v1/services/predict`, { method: 'PUT', body: SERVICE, headers: bearer(TOKEN) })).toBe(200);
  expect(await call(seen, `${admin}/v1/services/predict/weights?token=${TOKEN}`, { method: 'PUT', body: { blue: 50, green: 50 } })).toBe(401);
  expect(await call(seen, `${admin}/v1/services?access_token=${TOKEN}&token=${TOKEN}`)).toBe(200);
  expect(await call(seen, `${admin}/nowhere?token=${TOKEN}`)).toBe(404);
  expect(await call(seen, `${admin}/v1/audit?limit=abc&token=${TOKEN}`)).toBe(400);
  expect(await call(seen, `${admin}/v1/services/predict/weights`, { method: 'PUT', body: { blue: 50, green: 50 }, headers: bearer(WRONG_TOKEN) })).toBe(401);
  expect(await call(seen, `${admin}/v1/services/predict/weights`, { method: 'PUT', body: { blue: 50, green: 50 }, headers: { authorization: `Basic ${TOKEN}` } })).toBe(401);
  expect(await call(seen, `${admin}/v1/services/predict/weights`, { method: 'PUT', body: { blue: 50, green: 51 }, headers: bearer(TOKEN) })).toBe(422);
  expect(await call(seen, `${admin}/v1/services/predict/weights`, { method: 'PUT', body: { blue: 50, green: 50 }, headers: bearer(TOKEN) })).toBe(200);
  for (const path of ['/v1/audit', '/metrics', '/openapi.json', '/docs/json', '/v1/services/predict', '/readyz']) {
    expect(await call(seen, `${admin}${path}`, { headers: bearer(TOKEN) }), path).toBe(200);
  }
}

function expectNowhere(secrets: string[], texts: string[]): void {
  const all = texts.join('\n');
  for (const secret of secrets) expect(all.includes(secret), `${secret} appears in what sluice wrote or answered`).toBe(false);
}

describe('secrets', () => {
  it('a token file, the token in headers and query strings, wrong tokens: none reach logs, answers, the audit, metrics or the document', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const sluice = await startSluiceProcess({
      args: ['--admin-port', '0', '--xds-port', '0', '--state', join(dir, 'state.db'), '--log-level', 'debug'],
      env: { SLUICE_ADMIN_TOKEN_FILE: tokenFile },
      cwd: dir,
    });
    const seen: Seen = { texts: [] };
    try {
      await exercise(sluice, seen);
      // The exercise was logged (the query strings too, redacted): the search below has something to search.
      const urls = sluice.logs().map((line) => (line['req'] as { url?: string } | undefined)?.url);
      expect(urls).toContain('/v1/services?[redacted]&[redacted]');
      expect(sluice.logs().filter((line) => line.msg === 'admin call refused: no valid token')).toHaveLength(3);
    } finally {
      await sluice.stop();
    }
    expectNowhere([TOKEN, WRONG_TOKEN], [...seen.texts, JSON.stringify(sluice.logs()), sluice.stderr()]);
  });

  describe('with a PostgreSQL store whose URL has a password', () => {
    let postgres: PostgresServer;
    beforeAll(async () => {
      postgres = await startPostgres();
    });
    afterAll(async () => {
      await postgres?.stop();
    });

    it('never shows the password or the token, while serving or while the store is gone', async () => {
      const url = new URL(postgres.url);
      url.password = PASSWORD;
      const sluice = await startSluiceProcess({
        args: ['--admin-port', '0', '--xds-port', '0', '--log-level', 'debug'],
        env: { SLUICE_STORE: url.toString(), SLUICE_ADMIN_TOKEN: TOKEN },
        cwd: dir,
      });
      const seen: Seen = { texts: [] };
      try {
        // The store's URL is logged, with the password masked.
        const serving = sluice.logs().find((line) => line.msg === 'sluice is serving');
        expect(serving?.['state']).toBe(`postgres://postgres:***@127.0.0.1:${postgres.port}/postgres`);
        await exercise(sluice, seen);
        await postgres.pause();
        expect(await call(seen, `${sluice.adminUrl}/v1/services/predict/weights`, { method: 'PUT', body: { blue: 10, green: 90 }, headers: { authorization: `Bearer ${TOKEN}` } })).toBe(503);
        await postgres.start();
      } finally {
        await sluice.stop();
      }
      expectNowhere([PASSWORD, TOKEN, WRONG_TOKEN], [...seen.texts, JSON.stringify(sluice.logs()), sluice.stderr()]);
    });

    it('names a store it cannot open without its password', async () => {
      const closed = await freePort();
      const exited = await runSluice(
        ['serve', '--admin-port', '0', '--xds-port', '0', '--store', `postgres://sluice:${PASSWORD}@127.0.0.1:${closed}/sluice`],
        { cwd: dir },
      );
      expect(exited.code).toBe(2);
      expect(exited.stderr).toBe(`sluice: cannot open the state store postgres://sluice:***@127.0.0.1:${closed}/sluice (--store): connect ECONNREFUSED 127.0.0.1:${closed}\n`);
      const unparsable = await runSluice(['serve', '--admin-port', '0', '--xds-port', '0', '--store', `postgres://sluice:${PASSWORD}@[nowhere/sluice`], { cwd: dir });
      expect(unparsable.code).toBe(2);
      expectNowhere([PASSWORD], [exited.stdout, exited.stderr, unparsable.stdout, unparsable.stderr]);
    });
  });
});
