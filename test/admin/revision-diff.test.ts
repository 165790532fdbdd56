// GET /v1/revisions/{n}/diff: what revision n changed compared with revision n−1, per listener,
// service and rollout (started, aborted), with the changed JSON pointers and their old and new values; revision 1
// against the empty state; a pruned revision and one past the current are 404s that say which.

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/admin/app.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { rolloutBody } from '../rollout/fixtures.js';
import { buildFullApp, type FullApp } from './full-app.js';
import { INITIAL_STATE, predictBody, send } from './harness.js';

let full: FullApp;
beforeEach(async () => {
  full = await buildFullApp();
  await full.app.ready();
  const { app } = full;
  await send(app, 'PUT', '/v1/services/predict', predictBody()); // 1
  await send(app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 }); // 2
  await send(app, 'PUT', '/v1/listeners/edge', { port: 8081 }); // 3
  await send(app, 'PUT', '/v1/listeners/edge', { port: 8082 }); // 4
  await send(app, 'DELETE', '/v1/services/predict'); // 5
  expect(full.store.current().revision).toBe(5);
});
afterEach(async () => {
  await full.close();
});

async function diffOf(revision: number | string) {
  return send(full.app, 'GET', `/v1/revisions/${revision}/diff`);
}

describe('GET /v1/revisions/{n}/diff', () => {
  it('shows a weights change as one changed service with the weight pointers, old and new', async () => {
    const res = await diffOf(2);
    expect(res.statusCode).toBe(200);
    expect(res.headers['etag']).toBe('"5"');
    expect(res.json()).toEqual({
      revision: 5,
      of: 2,
      changes: [
        {
          kind: 'service',
          name: 'predict',
          change: 'changed',
          paths: [
            { path: '/weights/blue', label: 'weights.blue', old: 100, new: 90 },
            { path: '/weights/green', label: 'weights.green', old: 0, new: 10 },
          ],
        },
      ],
    });
  });

  it('compares revision 1 with the empty state: everything in it is added', async () => {
    expect((await diffOf(1)).json()).toEqual({
      revision: 5,
      of: 1,
      changes: [
        { kind: 'listener', name: 'default', change: 'added' },
        { kind: 'service', name: 'predict', change: 'added' },
      ],
    });
  });

  it('shows an added listener, a changed listener and a removed service', async () => {
    expect((await diffOf(3)).json().changes).toEqual([{ kind: 'listener', name: 'edge', change: 'added' }]);
    expect((await diffOf(4)).json().changes).toEqual([
      { kind: 'listener', name: 'edge', change: 'changed', paths: [{ path: '/port', label: 'port', old: 8081, new: 8082 }] },
    ]);
    expect((await diffOf(5)).json().changes).toEqual([{ kind: 'service', name: 'predict', change: 'removed' }]);
  });

  it('shows a started rollout as an added rollout, and its abort as a changed one', async () => {
    await send(full.app, 'PUT', '/v1/services/predict', predictBody()); // 6
    expect((await send(full.app, 'POST', '/v1/services/predict/rollouts', rolloutBody())).statusCode).toBe(201); // 7
    expect((await diffOf(7)).json().changes).toContainEqual({ kind: 'rollout', name: 'predict', change: 'added' });
    expect((await send(full.app, 'POST', '/v1/services/predict/rollout/abort')).statusCode).toBe(200); // 8
    const aborted = (await diffOf(8)).json().changes.find((change: { kind: string }) => change.kind === 'rollout');
    expect(aborted).toMatchObject({ name: 'predict', change: 'changed', paths: expect.arrayContaining([expect.objectContaining({ path: '/phase', new: 'aborted' })]) });
  });

  it('answers 404 SLUICE_REVISION_NOT_FOUND past the current revision, 400 for what is not a revision number', async () => {
    const missing = await diffOf(6);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'SLUICE_REVISION_NOT_FOUND', message: expect.stringContaining('Revision 6 does not exist') });
    for (const bad of ['0', 'abc', '-1']) {
      const res = await diffOf(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error, bad).toMatchObject({ code: 'SLUICE_INVALID_PARAM', path: '/revision' });
    }
  });

  it('needs the token for reads when reads need it', async () => {
    const guarded = await buildFullApp({ auth: { token: 't0ken', reads: true } });
    try {
      await guarded.app.ready();
      await send(guarded.app, 'PUT', '/v1/services/predict', predictBody(), { authorization: 'Bearer t0ken' });
      expect((await send(guarded.app, 'GET', '/v1/revisions/1/diff')).statusCode).toBe(401);
      expect((await send(guarded.app, 'GET', '/v1/revisions/1/diff', undefined, { authorization: 'Bearer t0ken' })).statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('with --revision-retention', () => {
  it('answers 404 saying the state was pruned when revision n or n−1 is older than the retention, and diffs the rest', async () => {
    const store = await Store.open(SqliteAdapter.open(':memory:', { revisionRetention: 1 }), { initialState: INITIAL_STATE });
    const app = buildAdminApp({ store, fleet: { list: () => [] }, logger: pino({ level: 'silent' }), isReady: () => true });
    try {
      await app.ready();
      for (const port of [8081, 8082, 8083, 8084]) await send(app, 'PUT', '/v1/listeners/edge', { port });
      // Revision 4 keeps revision 3; revision 2 and before are pruned.
      const kept = await send(app, 'GET', '/v1/revisions/4/diff');
      expect(kept.statusCode).toBe(200);
      expect(kept.json().changes).toEqual([{ kind: 'listener', name: 'edge', change: 'changed', paths: [{ path: '/port', label: 'port', old: 8083, new: 8084 }] }]);
      for (const [revision, message] of [
        [3, /^Revision 3 is compared with revision 2, whose state was pruned by the revision retention/],
        [2, /^Revision 2's state was pruned by the revision retention/],
      ] as const) {
        const res = await send(app, 'GET', `/v1/revisions/${revision}/diff`);
        expect(res.statusCode, String(revision)).toBe(404);
        expect(res.json().error, String(revision)).toMatchObject({ code: 'SLUICE_REVISION_NOT_FOUND', message: expect.stringMatching(message) });
      }
    } finally {
      await app.close();
      await store.close();
    }
  });
});
