// A replica whose PostgreSQL server stops while commits, the leader lease and the proxy reports
// are in flight: a lost database is a state, not a crash. Nothing is thrown outside the callers
// (no uncaught exception, no unhandled rejection), changes in flight are refused with 503
// SLUICE_STORE_UNAVAILABLE, no acknowledged change is lost, and every loop resumes afterwards.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetStatus } from '../../src/fleet/status.js';
import type { DesiredState } from '../../src/model/types.js';
import type { Change } from '../../src/state/changes.js';
import { LeaderLease } from '../../src/state/leader-lease.js';
import { PostgresAdapter } from '../../src/state/postgres-adapter.js';
import { Store } from '../../src/state/store.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { SharedProxies } from '../../src/sync/shared-proxies.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

const initialState: DesiredState = { revision: 0, listeners: { default: { name: 'default', address: '0.0.0.0', port: 18080 } }, services: {} };
const CYCLES = 6;

function put(name: string): Change {
  return { kind: 'putService', name, body: { match: { prefix: `/${name}` }, versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] }] } };
}

let server: PostgresServer;
const escaped: unknown[] = [];
const record = (error: unknown): void => {
  escaped.push(error);
};
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  server = await startPostgres();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await server?.stop();
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
});

describe('a replica losing its database mid-transaction', () => {
  it('refuses the changes in flight with 503, crashes nothing, and resumes every loop', async () => {
    const adapters = [await PostgresAdapter.open(server.url), await PostgresAdapter.open(server.url)];
    const stores = await Promise.all(adapters.map((adapter) => Store.open(adapter, { initialState })));
    cleanups.push(async () => void (await Promise.all(stores.map((store) => store.close()))));
    for (const store of stores) await store.followSharedState(() => undefined);
    const lease = new LeaderLease(adapters[0]!, 'a', 300);
    await lease.start();
    cleanups.push(() => lease.stop());
    const proxies = new SharedProxies({
      share: adapters[0]!,
      replica: 'a',
      fleet: new FleetStatus(),
      ledger: new RevisionLedger(),
      logger: pino({ level: 'silent' }),
      onRemoteChange: () => undefined,
      heartbeatMs: 20,
    });
    await proxies.start();
    cleanups.push(() => proxies.stop());

    const acknowledged: { revision: number; actor: string; name: string }[] = [];
    const refused: unknown[] = [];
    let serial = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      let writing = true;
      const refusedBefore = refused.length;
      const acknowledgedBefore = acknowledged.length;
      // Two replicas committing back to back, so a transaction is in flight when the server stops.
      const writers = stores.map(async (store, i) => {
        while (writing) {
          const name = `c${cycle}-r${i}-${serial++}`;
          try {
            acknowledged.push({ revision: (await store.apply(put(name), { actor: `replica-${i}` })).revision, actor: `replica-${i}`, name });
          } catch (error) {
            refused.push(error);
          }
        }
      });
      await expect.poll(() => acknowledged.length, { timeout: 10_000, interval: 5 }).toBeGreaterThan(acknowledgedBefore + 10);
      await server.pause(cycle % 2 === 0 ? 'fast' : 'immediate');
      await expect.poll(() => refused.length, { timeout: 10_000, interval: 5 }).toBeGreaterThan(refusedBefore);
      writing = false;
      await Promise.all(writers);
      await server.start();
      // Back: a change goes through again on both replicas.
      for (const [i, store] of stores.entries()) {
        const name = `c${cycle}-back-${i}`;
        const result = await store.apply(put(name), { actor: `replica-${i}` });
        acknowledged.push({ revision: result.revision, actor: `replica-${i}`, name });
      }
    }

    expect(escaped).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(CYCLES);
    for (const error of refused) expect(error).toMatchObject({ code: 'SLUICE_STORE_UNAVAILABLE', status: 503 });
    // No acknowledged change was lost (a refused one may still have landed: its COMMIT's answer was lost).
    const audit = new Map((await stores[1]!.audit({ limit: 100_000 })).map((entry) => [entry.revision, `${entry.actor} ${entry.summary}`]));
    for (const { revision, actor, name } of acknowledged) expect(audit.get(revision)).toBe(`${actor} put service ${name}`);
    // The lease and the proxy reports recover on their own.
    await expect.poll(() => lease.isLeader(), { timeout: 10_000 }).toBe(true);
    await expect.poll(async () => (await adapters[1]!.proxiesOfOthers('b', 60_000)).map((r) => r.replica), { timeout: 10_000 }).toEqual(['a']);
  }, 120_000);
});
