import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../../test/support/postgres-server.js';
import type { DesiredState } from '../model/types.js';
import { PostgresAdapter } from './postgres-adapter.js';
import type { CommitEntry } from './state-adapter.js';

let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function entry(revision: number): CommitEntry {
  const state: DesiredState = { revision, listeners: { default: { name: 'default', address: '0.0.0.0', port: 8000 + revision } }, services: {} };
  return { revision, state, actor: 'test', at: new Date(0).toISOString(), change: { kind: 'deleteService', name: `s${revision}` } as never, summary: `r${revision}` };
}

describe('PostgresAdapter', () => {
  it('migrates once when replicas start at the same time, and shares one history', async () => {
    const [a, b, c] = await Promise.all([PostgresAdapter.open(server.url), PostgresAdapter.open(server.url), PostgresAdapter.open(server.url)]);
    try {
      expect(await a.load()).toBeUndefined();
      await a.commit(entry(1));
      await b.commit(entry(2));
      expect((await c.load())?.state.revision).toBe(2);
      expect((await c.stateAt(1))?.listeners['default']?.port).toBe(8001);
      expect((await c.audit({ limit: 10 })).map((e) => [e.revision, e.summary])).toEqual([
        [2, 'r2'],
        [1, 'r1'],
      ]);
      // Replicas racing for the same revision: exactly one wins, the others hear `conflict`
      // (whether they saw the winner's row first or ran into its primary key).
      for (let revision = 3; revision < 13; revision++) {
        const results = await Promise.all([a.commit(entry(revision)), b.commit(entry(revision)), c.commit(entry(revision))]);
        expect(results.sort()).toEqual(['committed', 'conflict', 'conflict']);
      }
      expect(await c.commit(entry(2))).toBe('conflict');
      await expect(c.commit(entry(14))).rejects.toThrow(/at revision 12/);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('rings the doorbell on every commit made elsewhere', async () => {
    const writer = await PostgresAdapter.open(server.url);
    const reader = await PostgresAdapter.open(server.url);
    try {
      let rings = 0;
      await reader.watch(() => rings++, () => undefined);
      const afterConnect = rings;
      const latest = (await writer.load())?.state.revision ?? 0;
      await writer.commit(entry(latest + 1));
      await expect.poll(() => rings, { timeout: 5000 }).toBeGreaterThan(afterConnect);
      expect((await reader.load())?.state.revision).toBe(latest + 1);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});
