// The composition root gives the store the Envoy check: on a state file that already holds a
// service Envoy would reject (committed before the check existed), unrelated changes and its
// deletion go through, and restoring that revision is refused with SLUICE_ENVOY_WOULD_REJECT,
// naming the service, and stores nothing.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import type { DesiredState } from '../../src/model/types.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';

let dir: string;
let sluice: RunningSluice;

const broken: DesiredState = {
  revision: 1,
  listeners: { default: { name: 'default', address: '0.0.0.0', port: 18080 } },
  services: {
    predict: {
      name: 'predict',
      listener: 'default',
      match: { prefix: '/predict' },
      hosts: ['*'],
      versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] }],
      weights: { blue: 100 },
      stable: 'blue',
      pinHeader: 'x-sluice-version',
      timeout: '2562048h',
    },
  },
};

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-envoy-check-'));
  const statePath = join(dir, 'sluice.db');
  const adapter = SqliteAdapter.open(statePath);
  await adapter.commit({ revision: 1, state: broken, actor: 'an older sluice', at: new Date().toISOString(), change: { kind: 'restoreRevision', revision: 1 }, summary: 'seeded' });
  await adapter.close();
  sluice = await startSluice({ ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath }, pino({ level: 'silent' }));
});

afterAll(async () => {
  await sluice?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('lets changes through that add nothing Envoy rejects, and refuses restoring what it would reject', async () => {
  expect(sluice.store.current().revision).toBe(1);
  const other = await call('PUT', '/v1/services/other', { match: { prefix: '/other' }, versions: [{ name: 'v1', endpoints: [{ address: '127.0.0.1', port: 5002 }] }] });
  expect(other.status).toBe(200);
  expect((await call('DELETE', '/v1/services/predict')).status).toBe(200);
  expect(sluice.store.current().revision).toBe(3);

  const restore = await call('POST', '/v1/revisions/1/restore');
  expect(restore.status).toBe(422);
  expect(restore.json.error).toMatchObject({ code: 'SLUICE_ENVOY_WOULD_REJECT', path: '/services/predict' });
  expect(restore.json.error.message).toContain('field /virtual_hosts/0/routes/0/route/timeout is "9223372800s"');
  expect(sluice.store.current().revision).toBe(3);
  expect(sluice.store.current().services['predict']).toBeUndefined();
});
