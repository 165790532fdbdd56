import pg from 'pg';
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

/** Sessions on the server whose last statement was a LISTEN: the adapters' listening connections. */
async function listeningSessions(): Promise<number> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN %'`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

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
      expect(((await c.stateAt(1)) as DesiredState).listeners['default']?.port).toBe(8001);
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

  it('keeps reconnecting while the database is down, reporting each failure, until closed', async () => {
    const reader = await PostgresAdapter.open(server.url);
    const errors: Error[] = [];
    let rings = 0;
    await reader.watch(() => rings++, (error) => errors.push(error));
    expect(await listeningSessions()).toBe(1);
    await server.pause();
    try {
      // The lost connection, reported once (its client errs twice), then failed attempts one
      // after another (100, 200, 400 ms apart, ...), each reported.
      const refused = (): number => errors.filter((error) => (error as NodeJS.ErrnoException).code === 'ECONNREFUSED').length;
      await expect.poll(refused, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
      expect(errors.length - refused()).toBe(1);
      await reader.close();
    } finally {
      await server.start();
    }
    const heard = { errors: errors.length, rings };
    // Another adapter comes and goes while the database is up; the closed one stays silent.
    const other = await PostgresAdapter.open(server.url);
    let otherRings = 0;
    await other.watch(() => otherRings++, () => undefined);
    await other.commit(entry(((await other.load())?.state.revision ?? 0) + 1));
    await expect.poll(() => otherRings, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(await listeningSessions()).toBe(1);
    await other.close();
    expect({ errors: errors.length, rings }).toEqual(heard);
  }, 30_000);

  it('drops the states of revisions past the retention on commit, keeping every audit entry', async () => {
    const adapter = await PostgresAdapter.open(server.url, { revisionRetention: 2 });
    try {
      const latest = (await adapter.load())?.state.revision ?? 0;
      for (let revision = latest + 1; revision <= latest + 4; revision++) expect(await adapter.commit(entry(revision))).toBe('committed');
      // Latest + 4 is the newest: it and the two revisions before it keep their states.
      expect(await adapter.stateAt(latest + 1)).toBe('pruned');
      expect(await adapter.stateAt(1)).toBe('pruned');
      for (const revision of [latest + 2, latest + 3, latest + 4]) expect(await adapter.stateAt(revision)).toEqual(entry(revision).state);
      expect(await adapter.stateAt(latest + 5)).toBeUndefined();
      expect((await adapter.load())?.state).toEqual(entry(latest + 4).state);
      const audit = await adapter.audit({ limit: latest + 10 });
      expect(audit.map((e) => e.revision)).toEqual(Array.from({ length: latest + 4 }, (_, i) => latest + 4 - i));
      expect(audit.find((e) => e.revision === latest + 1)).toMatchObject({ actor: 'test', summary: `r${latest + 1}`, change: entry(latest + 1).change });
    } finally {
      await adapter.close();
    }
  });
});
