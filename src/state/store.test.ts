// The store: If-Match, atomic commits, subscriptions, serialized applies, audit paging,
// restoring a past revision and reopening from the same SQLite file.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SluiceError } from '../errors.js';
import type { ServiceBody } from '../model/schema.js';
import type { DesiredState } from '../model/types.js';
import type { Change, StoreChange } from './changes.js';
import { SqliteAdapter } from './sqlite-adapter.js';
import type { StateAdapter } from './state-adapter.js';
import { Store } from './store.js';

const initialState: DesiredState = {
  revision: 0,
  listeners: { default: { name: 'default', address: '0.0.0.0', port: 18080 } },
  services: {},
};

const predict: ServiceBody = {
  match: { prefix: '/predict' },
  versions: [
    { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
    { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
  ],
};
const putPredict: Change = { kind: 'putService', name: 'predict', body: predict };
let shifts = 0;
/** A change that always commits (one that changes nothing makes no revision): new weights each time. */
function shift(): Change {
  shifts += 1;
  const green = (shifts % 97) + 0.5;
  return { kind: 'setWeights', name: 'predict', weights: { blue: 100 - green, green } };
}
const actor = { actor: 'test' };

const stores: Store[] = [];
async function openStore(adapter: StateAdapter = SqliteAdapter.open(':memory:')): Promise<Store> {
  const store = await Store.open(adapter, { initialState });
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe('Store', () => {
  it('starts from the initial state (port chosen by the caller) when nothing was committed', async () => {
    const store = await openStore();
    expect(store.current()).toEqual(initialState);
    expect(Object.isFrozen(store.current().listeners)).toBe(true);
    expect(await store.audit({ limit: 10 })).toEqual([]);
  });

  it('refuses an initial state that is not at revision 0', async () => {
    await expect(Store.open(SqliteAdapter.open(':memory:'), { initialState: { ...initialState, revision: 4 } })).rejects.toThrow(
      /revision 0/,
    );
  });

  it('commits a change: next revision, audit entry with actor, time, change and summary', async () => {
    const store = await openStore();
    const result = await store.apply(putPredict, { actor: 'alice' });
    expect(result.revision).toBe(1);
    expect(result.previous.revision).toBe(0);
    expect(store.current()).toBe(result.state);
    const [entry] = await store.audit({ limit: 10 });
    expect(entry).toMatchObject({ revision: 1, actor: 'alice', change: putPredict, summary: 'put service predict' });
    expect(Date.parse(entry?.at ?? '')).not.toBeNaN();
  });

  it('refuses a stale ifRevision with 412 and changes nothing', async () => {
    const store = await openStore();
    await store.apply(putPredict, { ...actor, ifRevision: 0 });
    await expect(store.apply(shift(), { ...actor, ifRevision: 0 })).rejects.toMatchObject({
      code: 'SLUICE_REVISION_MISMATCH',
      status: 412,
    });
    expect(store.current().revision).toBe(1);
    expect(await store.audit({ limit: 10 })).toHaveLength(1);
  });

  it('a failing change persists nothing and notifies no one', async () => {
    const store = await openStore();
    const seen = vi.fn();
    store.subscribe(seen);
    await expect(store.apply({ kind: 'setWeights', name: 'nope', weights: {} }, actor)).rejects.toMatchObject({
      code: 'SLUICE_SERVICE_NOT_FOUND',
    });
    expect(store.current()).toEqual(initialState);
    expect(await store.audit({ limit: 10 })).toEqual([]);
    expect(seen).not.toHaveBeenCalled();
  });

  it('runs the given check on each state a change would commit; a refusal stores nothing', async () => {
    const checked: [number, number][] = [];
    const store = await Store.open(SqliteAdapter.open(':memory:'), {
      initialState,
      checkState: (next, current) => {
        checked.push([next.revision, current.revision]);
        if (next.services['predict']?.timeout === '1h') throw new SluiceError('SLUICE_INVALID_BODY', 'refused by the check', '/timeout');
      },
    });
    stores.push(store);
    const seen = vi.fn();
    store.subscribe(seen);
    await store.apply(putPredict, actor);
    await expect(store.apply({ ...putPredict, body: { ...predict, timeout: '1h' } }, actor)).rejects.toMatchObject({
      code: 'SLUICE_INVALID_BODY',
      path: '/timeout',
    });
    // A change that changes nothing is not checked: nothing would be committed.
    await store.apply(putPredict, actor);
    expect(checked).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(store.current().revision).toBe(1);
    expect(store.current().services['predict']?.timeout).not.toBe('1h');
    expect((await store.audit({ limit: 10 })).map((entry) => entry.revision)).toEqual([1]);
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('keeps the old state when the adapter cannot commit', async () => {
    const inner = SqliteAdapter.open(':memory:');
    const broken: StateAdapter = {
      load: () => inner.load(),
      audit: (q) => inner.audit(q),
      stateAt: (revision) => inner.stateAt(revision),
      close: () => inner.close(),
      commit: async () => {
        throw new Error('disk full');
      },
    };
    const store = await openStore(broken);
    const seen = vi.fn();
    store.subscribe(seen);
    await expect(store.apply(putPredict, actor)).rejects.toThrow('disk full');
    expect(store.current().revision).toBe(0);
    expect(seen).not.toHaveBeenCalled();
  });

  it('makes no revision for a change that changes nothing: no audit entry, no push, the current revision, If-Match still checked', async () => {
    const store = await openStore();
    await store.apply(putPredict, actor);
    const seen = vi.fn();
    store.subscribe(seen);
    const same: StoreChange[] = [
      putPredict,
      { kind: 'setWeights', name: 'predict', weights: { blue: 100 } },
      { kind: 'promote', name: 'predict', version: 'blue' },
      { kind: 'rollback', name: 'predict' },
      { kind: 'restoreRevision', revision: 1 },
    ];
    for (let i = 0; i < 64; i += 1) {
      const result = await store.apply(same[i % same.length]!, { ...actor, ifRevision: 1 });
      expect(result).toMatchObject({ revision: 1, unchanged: true });
      expect(result.state).toBe(store.current());
    }
    expect(store.current().revision).toBe(1);
    expect(await store.audit({ limit: 10 })).toHaveLength(1);
    expect(seen).not.toHaveBeenCalled();
    await expect(store.apply(putPredict, { ...actor, ifRevision: 0 })).rejects.toMatchObject({ code: 'SLUICE_REVISION_MISMATCH' });
    const changed = await store.apply(shift(), { ...actor, ifRevision: 1 });
    expect(changed).toMatchObject({ revision: 2, unchanged: false });
    expect(seen).toHaveBeenCalledOnce();
  });

  it('notifies subscribers after each commit until they unsubscribe', async () => {
    const store = await openStore();
    const revisions: number[] = [];
    const unsubscribe = store.subscribe((state) => {
      revisions.push(state.revision);
      expect(store.current()).toBe(state);
    });
    await store.apply(putPredict, actor);
    await store.apply(shift(), actor);
    unsubscribe();
    await store.apply(shift(), actor);
    expect(revisions).toEqual([1, 2]);
  });

  it('isolates a throwing subscriber: the commit stands and the error is reported', async () => {
    const errors: unknown[] = [];
    const store = await Store.open(SqliteAdapter.open(':memory:'), { initialState, onSubscriberError: (e) => errors.push(e) });
    stores.push(store);
    const after = vi.fn();
    store.subscribe(() => {
      throw new Error('boom');
    });
    store.subscribe(after);
    const result = await store.apply(putPredict, actor);
    expect(result.revision).toBe(1);
    expect(errors).toEqual([new Error('boom')]);
    expect(after).toHaveBeenCalledOnce();
  });

  it('serializes concurrent applies: strictly increasing revisions, If-Match checked in order', async () => {
    const store = await openStore();
    await store.apply(putPredict, actor);
    const weights = [10, 20, 30, 40, 50, 60, 70, 80, 90];
    const results = await Promise.all(
      weights.map((green) => store.apply({ kind: 'setWeights', name: 'predict', weights: { blue: 100 - green, green } }, actor)),
    );
    expect(results.map((r) => r.revision)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(store.current().services['predict']?.weights).toEqual({ blue: 10, green: 90 });

    const racing = await Promise.allSettled([
      store.apply(shift(), { ...actor, ifRevision: 10 }),
      store.apply(shift(), { ...actor, ifRevision: 10 }),
    ]);
    expect(racing.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(store.current().revision).toBe(11);
  });

  it('pages the audit log newest first with limit and before', async () => {
    const store = await openStore();
    await store.apply(putPredict, actor);
    for (let i = 0; i < 4; i += 1) await store.apply(shift(), actor);
    expect((await store.audit({ limit: 2 })).map((e) => e.revision)).toEqual([5, 4]);
    expect((await store.audit({ limit: 10, before: 3 })).map((e) => e.revision)).toEqual([2, 1]);
  });

  it('previews what apply would commit, refusing the same way, and writes, audits and tells nothing', async () => {
    const store = await Store.open(SqliteAdapter.open(':memory:'), {
      initialState,
      checkState: (next) => {
        if (next.services['predict']?.timeout === '1h') throw new SluiceError('SLUICE_INVALID_BODY', 'refused by the check', '/timeout');
      },
    });
    stores.push(store);
    await store.apply(putPredict, actor);
    const seen = vi.fn();
    store.subscribe(seen);
    const weights: Change = { kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } };

    const preview = await store.preview(weights, { ...actor, ifRevision: 1 });
    expect(preview.unchanged).toBe(false);
    expect(preview.previous).toBe(store.current());
    expect(store.current().revision).toBe(1);
    expect(await store.audit({ limit: 10 })).toHaveLength(1);
    expect(seen).not.toHaveBeenCalled();
    const applied = await store.apply(weights, { ...actor, ifRevision: 1 });
    expect(preview.state).toEqual(applied.state);

    expect(await store.preview(weights, actor)).toMatchObject({ unchanged: true, state: store.current() });
    const refusals: [StoreChange, { actor: string; ifRevision?: number }][] = [
      [weights, { ...actor, ifRevision: 1 }],
      [{ ...putPredict, body: { ...predict, timeout: '1h' } }, actor],
      [{ kind: 'setWeights', name: 'predict', weights: { blue: 90, red: 10 } }, actor],
      [{ kind: 'restoreRevision', revision: 9 }, actor],
    ];
    for (const [change, options] of refusals) {
      const previewed = await store.preview(change, options).catch((error: unknown) => error);
      const real = await store.apply(change, options).catch((error: unknown) => error);
      expect(previewed).toBeInstanceOf(SluiceError);
      expect(previewed).toEqual(real);
    }
    expect(store.current().revision).toBe(2);
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('previews after the applies queued before it', async () => {
    const store = await openStore();
    const applying = store.apply(putPredict, actor);
    const preview = await store.preview({ kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } }, { ...actor, ifRevision: 1 });
    expect((await applying).revision).toBe(1);
    expect(preview.previous.revision).toBe(1);
  });

  it('restores a past revision as a new one, audited, honouring ifRevision', async () => {
    const store = await openStore();
    await store.apply(putPredict, actor);
    await store.apply({ kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } }, actor);
    await store.apply({ kind: 'deleteService', name: 'predict' }, actor);
    const seen = vi.fn();
    store.subscribe(seen);

    await expect(store.apply({ kind: 'restoreRevision', revision: 2 }, { ...actor, ifRevision: 2 })).rejects.toMatchObject({
      code: 'SLUICE_REVISION_MISMATCH',
    });
    const result = await store.apply({ kind: 'restoreRevision', revision: 2 }, { actor: 'carol', ifRevision: 3 });
    expect(result.revision).toBe(4);
    expect(result.state.services['predict']?.weights).toEqual({ blue: 50, green: 50 });
    expect(result.state.listeners).toEqual(initialState.listeners);
    expect(Object.isFrozen(result.state.services['predict'])).toBe(true);
    expect(seen).toHaveBeenCalledWith(result.state);
    const [entry] = await store.audit({ limit: 1 });
    expect(entry).toMatchObject({ revision: 4, actor: 'carol', change: { kind: 'restoreRevision', revision: 2 }, summary: 'restore revision 2' });
  });

  it('refuses to restore a revision whose state the retention dropped, saying so, and restores a kept one', async () => {
    const store = await Store.open(SqliteAdapter.open(':memory:', { revisionRetention: 2 }), { initialState });
    await store.apply(putPredict, actor);
    for (let i = 0; i < 3; i += 1) await store.apply(shift(), actor);
    const refused = store.apply({ kind: 'restoreRevision', revision: 1 }, actor);
    await expect(refused).rejects.toMatchObject({ code: 'SLUICE_REVISION_NOT_FOUND', status: 404 });
    await expect(refused).rejects.toThrow(/Revision 1's state was pruned by the revision retention/);
    expect(store.current().revision).toBe(4);
    expect((await store.audit({ limit: 10 })).map((e) => e.revision)).toEqual([4, 3, 2, 1]);
    expect((await store.apply({ kind: 'restoreRevision', revision: 2 }, actor)).revision).toBe(5);
  });

  it.each([0, 3])('refuses to restore revision %i (none before 1, none past the current 2) and changes nothing', async (revision) => {
    const store = await openStore();
    await store.apply(putPredict, actor);
    await store.apply(shift(), actor);
    await expect(store.apply({ kind: 'restoreRevision', revision }, actor)).rejects.toMatchObject({
      code: 'SLUICE_REVISION_NOT_FOUND',
      status: 404,
    });
    expect(store.current().revision).toBe(2);
    expect(await store.audit({ limit: 10 })).toHaveLength(2);
  });

  it('refuses to restore a stored state that no longer passes validation', async () => {
    const inner = SqliteAdapter.open(':memory:');
    const listener = { name: 'edge', address: '0.0.0.0', port: 18080 };
    const clash: StateAdapter = {
      load: () => inner.load(),
      commit: (entry) => inner.commit(entry),
      audit: (q) => inner.audit(q),
      close: () => inner.close(),
      // As if stored by an older sluice: two listeners on one address and port.
      stateAt: async () => ({ ...initialState, listeners: { ...initialState.listeners, edge: listener } }),
    };
    const store = await openStore(clash);
    await store.apply(putPredict, actor);
    await expect(store.apply({ kind: 'restoreRevision', revision: 1 }, actor)).rejects.toMatchObject({
      code: 'SLUICE_PORT_CONFLICT',
      message: expect.stringMatching(/^Revision 1 cannot be restored: /),
    });
    expect(store.current().revision).toBe(1);
  });

  it('when another writer took the revision: catches up, applies again, and checks If-Match on the newer state', async () => {
    const shared = SqliteAdapter.open(':memory:');
    const first = await openStore(shared);
    const second = await Store.open(shared, { initialState });
    await second.apply(putPredict, { actor: 'bob' });
    const seen = vi.fn();
    first.subscribe(seen);

    // `first` still believes it is at revision 0: its commit of 1 conflicts, it catches up and writes 2.
    const other: Change = { kind: 'putService', name: 'other', body: { ...predict, match: { prefix: '/other' } } };
    const result = await first.apply(other, { actor: 'alice' });
    expect(result.revision).toBe(2);
    expect(result.previous.revision).toBe(1);
    expect(seen.mock.calls.map(([state]) => (state as DesiredState).revision)).toEqual([1, 2]);
    expect(Object.keys(first.current().services).sort()).toEqual(['other', 'predict']);

    // An If-Match that held before catching up is checked again on the newer state: 412.
    await second.apply(shift(), { actor: 'bob' });
    await expect(first.apply(shift(), { actor: 'alice', ifRevision: 2 })).rejects.toMatchObject({
      code: 'SLUICE_REVISION_MISMATCH',
    });
    expect((await shared.audit({ limit: 10 })).map((e) => [e.revision, e.actor])).toEqual([
      [3, 'bob'],
      [2, 'alice'],
      [1, 'bob'],
    ]);
  });

  it('turns a conflict that catching up cannot explain into a clear 503, storing nothing', async () => {
    const inner = SqliteAdapter.open(':memory:');
    const store = await openStore({
      load: () => inner.load(),
      commit: async () => 'conflict',
      audit: (q) => inner.audit(q),
      stateAt: (r) => inner.stateAt(r),
      close: () => inner.close(),
    });
    await expect(store.apply(putPredict, actor)).rejects.toMatchObject({
      code: 'SLUICE_STORE_UNAVAILABLE',
      message: expect.stringMatching(/refused revision 1 yet holds nothing newer/),
    });
    expect(store.current().revision).toBe(0);
  });

  it('retries a failed catch-up on its own, without waiting for another doorbell', async () => {
    const inner = SqliteAdapter.open(':memory:');
    const writer = await Store.open(inner, { initialState });
    await writer.apply(putPredict, { actor: 'other-replica' });
    let failuresLeft = 3;
    let ring: (() => void) | undefined;
    const follower = await openStore({
      load: async () => (ring === undefined || failuresLeft-- <= 0 ? inner.load() : Promise.reject(new Error('connection refused'))),
      commit: (entry) => inner.commit(entry),
      audit: (q) => inner.audit(q),
      stateAt: (r) => inner.stateAt(r),
      close: async () => undefined,
      watch: async (onCommit) => {
        ring = onCommit;
      },
    });
    const statuses: boolean[] = [];
    await follower.followSharedState((reachable) => statuses.push(reachable));
    expect(follower.current().revision).toBe(1);
    await writer.apply(shift(), { actor: 'other-replica' });
    ring!(); // One doorbell, then three failed reads: the store must keep trying by itself.
    await vi.waitFor(() => expect(follower.current().revision).toBe(2), { timeout: 5000, interval: 20 });
    expect(statuses).toEqual([false, false, false, true]);
  });

  it('says a commit to a shared store that failed mid-way may have landed', async () => {
    const inner = SqliteAdapter.open(':memory:');
    const store = await openStore({
      load: () => inner.load(),
      commit: () => Promise.reject(new Error('Connection terminated unexpectedly')),
      audit: (q) => inner.audit(q),
      stateAt: (r) => inner.stateAt(r),
      close: () => inner.close(),
      watch: async () => undefined,
    });
    await expect(store.apply(putPredict, actor)).rejects.toMatchObject({
      code: 'SLUICE_STORE_UNAVAILABLE',
      message: expect.stringMatching(/Connection terminated unexpectedly.*may or may not have been stored/),
    });
  });

  it('reopens from the same file with the same state, revision and audit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    try {
      const file = join(dir, 'nested', 'state.db');
      const first = await Store.open(SqliteAdapter.open(file), { initialState });
      await first.apply(putPredict, { actor: 'alice' });
      await first.apply({ kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } }, { actor: 'bob' });
      const before = first.current();
      await first.close();

      const second = await Store.open(SqliteAdapter.open(file), {
        initialState: { ...initialState, listeners: { default: { name: 'default', address: '0.0.0.0', port: 1 } } },
      });
      expect(second.current()).toEqual(before);
      expect(Object.isFrozen(second.current().services['predict'])).toBe(true);
      expect((await second.audit({ limit: 10 })).map((e) => [e.revision, e.actor])).toEqual([
        [2, 'bob'],
        [1, 'alice'],
      ]);
      expect((await second.apply(shift(), actor)).revision).toBe(3);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
