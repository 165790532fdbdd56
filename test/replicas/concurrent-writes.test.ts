// Replicas writing at the same moment on one PostgreSQL database: whoever loses the race for a
// revision catches up and applies its change again on the newer state, so every change is
// acknowledged, none refused, and each appears once in the shared history.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/model/types.js';
import type { Change } from '../../src/state/changes.js';
import { PostgresAdapter } from '../../src/state/postgres-adapter.js';
import { Store } from '../../src/state/store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

const initialState: DesiredState = { revision: 0, listeners: { default: { name: 'default', address: '0.0.0.0', port: 18080 } }, services: {} };
const REPLICAS = 3;
const ROUNDS = 20;

function put(replica: number, round: number): Change {
  const name = `s${replica}-${round}`;
  return {
    kind: 'putService',
    name,
    body: { match: { prefix: `/${name}` }, versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] }] },
  };
}

let server: PostgresServer;
const stores: Store[] = [];

beforeAll(async () => {
  server = await startPostgres();
  for (let i = 0; i < REPLICAS; i++) {
    const store = await Store.open(await PostgresAdapter.open(server.url), { initialState });
    await store.followSharedState(() => undefined);
    stores.push(store);
  }
});

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  await server?.stop();
});

describe('replicas writing at the same moment', () => {
  it('all succeed: the losers of each race retry on the newer state', async () => {
    const refused: unknown[] = [];
    let acknowledged = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.allSettled(stores.map((store, i) => store.apply(put(i, round), { actor: `replica-${i}` })));
      for (const result of results) {
        if (result.status === 'fulfilled') acknowledged++;
        else refused.push(result.reason);
      }
    }
    expect(refused).toEqual([]);
    expect(acknowledged).toBe(REPLICAS * ROUNDS);

    for (const store of stores) await expect.poll(() => store.current().revision, { timeout: 10_000 }).toBe(REPLICAS * ROUNDS);
    const audit = await stores[0]!.audit({ limit: 1000 });
    expect(audit.map((entry) => entry.revision)).toEqual(Array.from({ length: REPLICAS * ROUNDS }, (_, i) => REPLICAS * ROUNDS - i));
    const written = audit.map((entry) => `${entry.actor} ${entry.summary}`).sort();
    const expected = stores.flatMap((_, i) => Array.from({ length: ROUNDS }, (_, round) => `replica-${i} put service s${i}-${round}`)).sort();
    expect(written).toEqual(expected);
    for (const name of expected.map((line) => line.split(' ').at(-1)!)) expect(stores[1]!.current().services[name]).toBeDefined();
  }, 60_000);
});
