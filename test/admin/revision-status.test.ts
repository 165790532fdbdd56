// RevisionStatus on its own: what "applied" means per proxy, how far the fleet has come, and
// waits that settle on an ACK, a ledger change, a disconnect, a timeout or an abort — leaving no
// listener or timer behind; asked about one service, which proxies are waited for.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SluiceError } from '../../src/errors.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { NO_PROXY_NOTE, RevisionStatus, waitedFor } from '../../src/sync/revision-status.js';
import { RolloutInputs } from '../../src/sync/rollout-inputs.js';
import { serviceKey } from '../../src/sync/service-footprints.js';
import { LoadStats } from '../../src/fleet/load-stats.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { TYPES, ackAll, connect, countListeners, versions } from './fleet-driver.js';

let fleet: FleetStatus;
let ledger: RevisionLedger;
let current: number;
let status: RevisionStatus;
let listeners: { active(): number };

beforeEach(() => {
  fleet = new FleetStatus();
  listeners = countListeners(fleet);
  ledger = new RevisionLedger();
  current = 3;
  for (const revision of [1, 2, 3]) ledger.record(revision, [{ group: 'default', versions: versions(`r${revision}`) }]);
  status = new RevisionStatus(fleet, ledger, () => current);
});

afterEach(() => {
  vi.useRealTimers();
});

/** Settles a promise without blocking: 'pending' when it has not yet. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('report', () => {
  it('counts a proxy as having applied n when it is at n or later', () => {
    connect(fleet, 1, 'at-3');
    ackAll(fleet, 1, versions('r3'));
    connect(fleet, 2, 'at-1');
    ackAll(fleet, 2, versions('r1'));
    connect(fleet, 3, 'nothing-acked');
    fleet.responseSent(3, CLUSTER_TYPE, versions('r3')[CLUSTER_TYPE]);

    const report = status.report(2);
    expect(report).toEqual({
      revision: 2,
      current: 3,
      complete: false,
      proxies: [
        { node: { id: 'at-3', cluster: 'edge' }, streams: [{ id: 1, kind: 'sotw', aggregated: true }], appliedRevision: 3, applied: true },
        { node: { id: 'at-1', cluster: 'edge' }, streams: [{ id: 2, kind: 'sotw', aggregated: true }], appliedRevision: 1, applied: false },
        { node: { id: 'nothing-acked', cluster: 'edge' }, streams: [{ id: 3, kind: 'sotw', aggregated: true }], appliedRevision: null, applied: false },
      ],
    });
    expect(status.report(1).proxies.map((proxy) => proxy.applied)).toEqual([true, true, false]);
    expect(status.fleetRevision()).toEqual({ connected: 3, applied: 0 });
  });

  it('is trivially complete, with a note, when no proxy is connected', () => {
    expect(status.report(3)).toEqual({ revision: 3, current: 3, complete: true, proxies: [], note: NO_PROXY_NOTE });
    expect(status.fleetRevision()).toEqual({ connected: 0, applied: 3 });
  });

  it('has no note once a proxy is connected', () => {
    connect(fleet, 1, 'a');
    ackAll(fleet, 1, versions('r3'));
    expect(status.report(3)).not.toHaveProperty('note');
    expect(status.report(3).complete).toBe(true);
  });

  it('refuses a revision past the current one', () => {
    const attempt = () => status.report(4);
    expect(attempt).toThrow(SluiceError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'SLUICE_REVISION_NOT_FOUND', status: 404 }));
  });
});

describe('wait', () => {
  it('settles at the ACK that completes the revision, not before', async () => {
    connect(fleet, 1, 'a');
    ackAll(fleet, 1, versions('r2'));
    const waiting = status.wait(3, 60_000);
    expect(listeners.active()).toBe(1);

    ackAll(fleet, 1, versions('r3'), [CLUSTER_TYPE]); // one type of four: not yet
    expect(await peek(waiting)).toBe('pending');

    ackAll(fleet, 1, versions('r3'));
    const report = await waiting;
    expect(report.complete).toBe(true);
    expect(report.proxies[0]?.appliedRevision).toBe(3);
    expect(listeners.active()).toBe(0);
  });

  it('is not completed by a NACK', async () => {
    connect(fleet, 1, 'a');
    ackAll(fleet, 1, versions('r2'));
    const waiting = status.wait(3, 60_000);
    fleet.nacked(1, ROUTE_TYPE, versions('r3')[ROUTE_TYPE], 'bad route');
    expect(await peek(waiting)).toBe('pending');
    fleet.streamClosed(1); // the lagging proxy leaves: nobody is behind any more
    expect((await waiting).complete).toBe(true);
  });

  it('wakes on a ledger change: a revision that changed no resource makes nobody ACK', async () => {
    connect(fleet, 1, 'a');
    ackAll(fleet, 1, versions('r3'));
    current = 4;
    const waiting = status.wait(4, 60_000);
    expect(await peek(waiting)).toBe('pending');

    ledger.record(4, [{ group: 'default', versions: versions('r3') }]);
    status.ledgerChanged();
    expect((await waiting).complete).toBe(true);
    expect(listeners.active()).toBe(0);
  });

  it('answers with complete:false when the time is up', async () => {
    vi.useFakeTimers();
    connect(fleet, 1, 'a');
    ackAll(fleet, 1, versions('r2'));
    const waiting = status.wait(3, 1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await Promise.race([waiting, Promise.resolve('pending')])).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect((await waiting).complete).toBe(false);
    expect(listeners.active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends on abort and removes its listener and timer', async () => {
    connect(fleet, 1, 'a');
    // Fleet listeners run on the next event-loop turn: let that pass before the clock is faked.
    await new Promise((resolve) => setImmediate(resolve));
    vi.useFakeTimers();
    const controller = new AbortController();
    const waiting = status.wait(3, 60_000, controller.signal);
    expect(listeners.active()).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    expect((await waiting).complete).toBe(false);
    expect(listeners.active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers at once when already complete, asked not to wait or already aborted', async () => {
    connect(fleet, 1, 'a');
    ackAll(fleet, 1, versions('r2'));
    expect((await status.wait(2, 60_000)).complete).toBe(true);
    expect((await status.wait(3, 0)).complete).toBe(false);
    expect((await status.wait(3, 60_000, AbortSignal.abort())).complete).toBe(false);
    expect(listeners.active()).toBe(0);
  });

  it('refuses to wait for a revision that does not exist yet', async () => {
    await expect(status.wait(4, 60_000)).rejects.toMatchObject({ code: 'SLUICE_REVISION_NOT_FOUND' });
    expect(listeners.active()).toBe(0);
  });
});

describe('one service: only proxies that held it before are waited for', () => {
  it.each([
    { appliedRevision: null, service: undefined, waited: true, why: 'the whole state waits for every proxy' },
    { appliedRevision: 1, service: undefined, waited: true, why: 'the whole state waits for every proxy' },
    { appliedRevision: null, service: 'model', waited: false, why: 'never held the service: first sync or never ACKs' },
    { appliedRevision: 1, service: 'model', waited: true, why: 'held it before, so it must keep up' },
    { appliedRevision: 0, service: 'model', waited: true, why: 'revision 0 is a revision it held' },
  ])('$appliedRevision of $service: waited $waited ($why)', ({ appliedRevision, service, waited }) => {
    expect(waitedFor(appliedRevision, service)).toBe(waited);
  });

  /** Revisions 1..3 where the service's routes change at 3 (its other types stay). */
  function recordWithFootprints(): void {
    ledger = new RevisionLedger();
    for (const revision of [1, 2, 3]) {
      const model = { [CLUSTER_TYPE]: 'c', [ENDPOINT_TYPE]: 'e', [LISTENER_TYPE]: 'l', [ROUTE_TYPE]: revision === 3 ? 'routes-3' : 'routes-1' };
      ledger.record(revision, [{ group: 'default', versions: versions(`r${revision}`), footprints: new Map([[serviceKey('model'), model]]) }]);
    }
    status = new RevisionStatus(fleet, ledger, () => current);
  }

  it('a client that never ACKs neither completes nor blocks the service, and is marked', () => {
    recordWithFootprints();
    connect(fleet, 1, 'synced');
    ackAll(fleet, 1, versions('r3'));
    connect(fleet, 2, 'never-acks');
    for (const typeUrl of TYPES) fleet.responseSent(2, typeUrl, versions('r3')[typeUrl]);

    const report = status.report(3, 'model');
    expect(report.complete).toBe(true);
    expect(report.proxies.map(({ node, applied, neverHeld }) => ({ id: node.id, applied, neverHeld }))).toEqual([
      { id: 'synced', applied: true, neverHeld: undefined },
      { id: 'never-acks', applied: false, neverHeld: true },
    ]);
    expect(status.fleetRevision('model')).toEqual({ connected: 2, applied: 3 });
    // The whole state stays strict: the silent client is behind.
    expect(status.report(3).complete).toBe(false);
    expect(status.report(3).proxies[1]).not.toHaveProperty('neverHeld');
    expect(status.fleetRevision()).toEqual({ connected: 2, applied: 0 });
  });

  it('a proxy that held the service and stops ACKing holds it back, by name', () => {
    recordWithFootprints();
    connect(fleet, 1, 'synced');
    ackAll(fleet, 1, versions('r3'));
    connect(fleet, 2, 'stuck-at-2');
    ackAll(fleet, 2, versions('r2'));

    const report = status.report(3, 'model');
    expect(report.complete).toBe(false);
    expect(report.proxies.find((proxy) => proxy.node.id === 'stuck-at-2')).toMatchObject({ appliedRevision: 2, applied: false });
    expect(report.proxies.find((proxy) => proxy.node.id === 'stuck-at-2')).not.toHaveProperty('neverHeld');
    expect(status.fleetRevision('model')).toEqual({ connected: 2, applied: 2 });
    const inputs = new RolloutInputs(status, new LoadStats(), 2000);
    expect(inputs.revisionApplied(3, 'model')).toBe(false);
    expect(inputs.pendingProxies(3, 'model')).toEqual([{ node: 'stuck-at-2' }]);
  });
});
