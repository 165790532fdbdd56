// GET /v1/revisions/:revision through inject(), over a real FleetStatus driven through its
// callbacks and a RevisionLedger fed by hand: the answer, waits that end early on an ACK or at
// the deadline, aborted and shut-down waits, and the 400 / 404 cases.

import type { FastifyInstance } from 'fastify';
import { get as httpGet } from 'node:http';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildAdminApp } from '../../src/admin/app.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { NO_PROXY_NOTE, RevisionStatus } from '../../src/sync/revision-status.js';
import { ackAll, connect, countListeners, versions } from './fleet-driver.js';
import { INITIAL_STATE } from './harness.js';

let fleet: FleetStatus;
let ledger: RevisionLedger;
let current: number;
let listeners: { active(): number };
let store: Store;
let app: FastifyInstance;

beforeEach(async () => {
  fleet = new FleetStatus();
  listeners = countListeners(fleet);
  ledger = new RevisionLedger();
  current = 2;
  ledger.record(1, [{ group: 'default', versions: versions('r1') }]);
  ledger.record(2, [{ group: 'default', versions: versions('r2') }]);
  store = await Store.open(SqliteAdapter.open(':memory:'), { initialState: INITIAL_STATE });
  app = buildAdminApp({
    store,
    fleet: { list: () => [] },
    logger: pino({ level: 'silent' }),
    isReady: () => true,
    revisions: new RevisionStatus(fleet, ledger, () => current),
  });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await store.close();
});

function get(url: string) {
  return app.inject({ method: 'GET', url });
}

describe('GET /v1/revisions/:revision', () => {
  it('lists which proxies have applied the revision', async () => {
    connect(fleet, 1, 'edge-a');
    ackAll(fleet, 1, versions('r2'));
    connect(fleet, 2, 'edge-b', 'delta');
    ackAll(fleet, 2, versions('r1'));

    const res = await get('/v1/revisions/2');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      revision: 2,
      current: 2,
      complete: false,
      proxies: [
        { node: { id: 'edge-a', cluster: 'edge' }, streams: [{ id: 1, kind: 'sotw', aggregated: true }], appliedRevision: 2, applied: true },
        { node: { id: 'edge-b', cluster: 'edge' }, streams: [{ id: 2, kind: 'delta', aggregated: true }], appliedRevision: 1, applied: false },
      ],
    });
    expect((await get('/v1/revisions/1')).json()).toMatchObject({ revision: 1, current: 2, complete: true });
  });

  it('is complete, with a note, when no proxy is connected', async () => {
    const res = await get('/v1/revisions/2?wait=10s');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revision: 2, current: 2, complete: true, proxies: [], note: NO_PROXY_NOTE });
  });

  it('waits until the lagging proxy ACKs, and answers then', async () => {
    connect(fleet, 1, 'edge-a');
    ackAll(fleet, 1, versions('r1'));
    const started = performance.now();
    const answer = get('/v1/revisions/2?wait=30s');
    await vi.waitFor(() => expect(listeners.active()).toBe(1));

    ackAll(fleet, 1, versions('r2'));
    const res = await answer;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ revision: 2, complete: true, proxies: [{ appliedRevision: 2, applied: true }] });
    expect(listeners.active()).toBe(0);
  });

  it('answers complete:false with 200 when the wait is up', async () => {
    connect(fleet, 1, 'edge-a');
    ackAll(fleet, 1, versions('r1'));
    const started = performance.now();
    const res = await get('/v1/revisions/2?wait=150ms');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ revision: 2, complete: false, proxies: [{ appliedRevision: 1, applied: false }] });
    expect(listeners.active()).toBe(0);
  });

  it('does not wait without ?wait', async () => {
    connect(fleet, 1, 'edge-a');
    expect((await get('/v1/revisions/2')).json()).toMatchObject({ complete: false, proxies: [{ appliedRevision: null }] });
    expect(listeners.active()).toBe(0);
  });

  it('ends a wait whose client went away', async () => {
    connect(fleet, 1, 'edge-a');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on a port');
    const request = httpGet(`http://127.0.0.1:${address.port}/v1/revisions/2?wait=60s`);
    request.on('error', () => undefined);
    await vi.waitFor(() => expect(listeners.active()).toBe(1));
    request.destroy();
    await vi.waitFor(() => expect(listeners.active()).toBe(0));
  });

  it('ends every wait when the server closes', async () => {
    connect(fleet, 1, 'edge-a');
    const answer = get('/v1/revisions/2?wait=60s');
    await vi.waitFor(() => expect(listeners.active()).toBe(1));
    const started = performance.now();
    await app.close();
    const res = await answer;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(res.json()).toMatchObject({ complete: false });
    expect(listeners.active()).toBe(0);
  });

  it('answers 404 SLUICE_REVISION_NOT_FOUND past the current revision, without waiting', async () => {
    const res = await get('/v1/revisions/3?wait=60s');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'SLUICE_REVISION_NOT_FOUND', message: 'Revision 3 does not exist; the current revision is 2.' },
    });
  });

  it.each(['0', '-1', 'abc', '1.5', '1e3', '9999999999999999'])('refuses revision %s with 400', async (revision) => {
    const res = await get(`/v1/revisions/${revision}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'SLUICE_INVALID_PARAM', path: '/revision' });
  });

  it.each(['5', 'soon', '61s', '2m', '1.0005s', '-1s', '1s&wait=2s'])('refuses wait=%s with 400', async (wait) => {
    const res = await get(`/v1/revisions/1?wait=${wait}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'SLUICE_INVALID_PARAM', path: '/wait' });
  });

  it('accepts the longest wait, 60s', async () => {
    expect((await get('/v1/revisions/1?wait=60s')).statusCode).toBe(200);
    expect((await get('/v1/revisions/1?wait=1m')).statusCode).toBe(200);
  });
});
