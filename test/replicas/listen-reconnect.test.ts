// A replica following the shared state through a PostgreSQL outage longer than its first
// reconnect attempts: it reports the store unreachable while the database is down, keeps trying,
// and once the database is back it reconnects, catches up with what was committed meanwhile and
// hears later commits again.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/model/types.js';
import type { Change } from '../../src/state/changes.js';
import { PostgresAdapter } from '../../src/state/postgres-adapter.js';
import { Store } from '../../src/state/store.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

const initialState: DesiredState = { revision: 0, listeners: { default: { name: 'default', address: '0.0.0.0', port: 18080 } }, services: {} };

function put(name: string): Change {
  return { kind: 'putService', name, body: { match: { prefix: `/${name}` }, versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] }] } };
}

/** The chosen fault: long enough for several reconnect attempts to fail. */
const OUTAGE_MS = 3000;

let server: PostgresServer;
const stores: Store[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  await server?.stop();
});

describe('a replica following the shared state through a database outage', () => {
  it('reports it unreachable, reconnects once the database is back, catches up and hears later commits', async () => {
    const follower = await Store.open(await PostgresAdapter.open(server.url), { initialState });
    stores.push(follower);
    const statuses: boolean[] = [];
    await follower.followSharedState((reachable) => statuses.push(reachable));
    const writer = await Store.open(await PostgresAdapter.open(server.url), { initialState });
    stores.push(writer);
    const first = await writer.apply(put('before'), { actor: 'writer' });
    await expect.poll(() => follower.current().revision, { timeout: 5000 }).toBe(first.revision);

    await server.pause();
    await expect.poll(() => statuses.at(-1), { timeout: 5000 }).toBe(false);
    await sleep(OUTAGE_MS);
    expect(statuses.at(-1)).toBe(false);
    await server.start();

    // Committed after the restart, most likely before the follower reconnected: it catches up.
    const during = await writer.apply(put('after-restart'), { actor: 'writer' });
    await expect.poll(() => statuses.at(-1), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => follower.current().revision, { timeout: 5000 }).toBe(during.revision);

    // And it listens again: a later commit arrives by the doorbell.
    const later = await writer.apply(put('later'), { actor: 'writer' });
    await expect.poll(() => follower.current().revision, { timeout: 5000 }).toBe(later.revision);
    expect(Object.keys(follower.current().services).sort()).toEqual(['after-restart', 'before', 'later']);
  }, 60_000);
});
