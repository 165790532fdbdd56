// Restarting loses nothing: state, revision and audit survive closing and reopening the file.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send } from './harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps state, revision and audit across a close and reopen of the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-persist-'));
    dirs.push(dir);

    const first = await openHarness({ dir });
    await send(first.app, 'PUT', '/v1/listeners/edge', { port: 8443 });
    await send(first.app, 'PUT', '/v1/services/predict', predictBody(), { 'x-sluice-actor': 'alice' });
    await send(first.app, 'PUT', '/v1/services/predict/weights', { blue: 50, green: 50 });
    const services = (await send(first.app, 'GET', '/v1/services')).json();
    const audit = (await send(first.app, 'GET', '/v1/audit')).json();
    await first.close();

    const second = await openHarness({ dir });
    try {
      expect(second.store.current().revision).toBe(3);
      expect((await send(second.app, 'GET', '/v1/services')).json()).toEqual(services);
      expect((await send(second.app, 'GET', '/v1/listeners/edge')).json()).toEqual({
        revision: 3,
        name: 'edge',
        address: '0.0.0.0',
        port: 8443,
      });
      expect((await send(second.app, 'GET', '/v1/audit')).json()).toEqual(audit);

      const next = await send(second.app, 'POST', '/v1/services/predict/rollback', undefined, { 'if-match': '"3"' });
      expect(next.statusCode).toBe(200);
      expect(next.headers['etag']).toBe('"4"');
    } finally {
      await second.close();
    }
  });
});
