// The revision history and restore: GET /v1/revisions lists past revisions newest first and
// pages like the audit; POST /v1/revisions/{n}/restore makes a new revision with revision n's
// listeners and services, audited, honouring If-Match, refusing what does not exist; and
// GET /v1/revisions/{n} (fleet status) keeps working beside them.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFullApp, type FullApp } from './full-app.js';
import { predictBody, send } from './harness.js';

let full: FullApp;
beforeEach(async () => {
  full = await buildFullApp();
  await full.app.ready();
  const { app } = full;
  await send(app, 'PUT', '/v1/services/predict', predictBody(), { 'x-sluice-actor': 'alice' });
  await send(app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 });
  await send(app, 'PUT', '/v1/listeners/edge', { port: 8081 });
  await send(app, 'DELETE', '/v1/services/predict', undefined, { 'x-sluice-actor': 'bob' });
});
afterEach(async () => {
  await full.close();
});

describe('GET /v1/revisions', () => {
  it('lists revision, actor, time and summary, newest first, paged with limit and before', async () => {
    const res = await send(full.app, 'GET', '/v1/revisions');
    expect(res.statusCode).toBe(200);
    expect(res.headers['etag']).toBe('"4"');
    const { revision, revisions } = res.json();
    expect(revision).toBe(4);
    expect(revisions.map((r: { revision: number; actor: string; summary: string }) => [r.revision, r.actor, r.summary])).toEqual([
      [4, 'bob', 'delete service predict'],
      [3, 'admin', 'put listener edge'],
      [2, 'admin', 'set weights of predict (stable blue): blue 90, green 10'],
      [1, 'alice', 'put service predict'],
    ]);
    expect(Object.keys(revisions[0]).sort()).toEqual(['actor', 'at', 'revision', 'summary']);
    expect(new Date(revisions[0].at).toISOString()).toBe(revisions[0].at);

    const page = (await send(full.app, 'GET', '/v1/revisions?limit=2&before=4')).json();
    expect(page.revisions.map((r: { revision: number }) => r.revision)).toEqual([3, 2]);
  });

  it.each(['limit=0', 'limit=1001', 'limit=x', 'before=0', 'before=-1', 'limit=1&limit=2'])('refuses %s', async (query) => {
    const res = await send(full.app, 'GET', `/v1/revisions?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'SLUICE_INVALID_PARAM', path: `/${query.split('=')[0]}` });
  });
});

describe('POST /v1/revisions/{n}/restore', () => {
  it("makes a new revision with revision n's listeners and services, audited as a restore", async () => {
    const res = await send(full.app, 'POST', '/v1/revisions/2/restore', undefined, { 'if-match': '"4"', 'x-sluice-actor': 'carol' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['etag']).toBe('"5"');
    const body = res.json();
    expect(body).toMatchObject({ revision: 5, restored: 2 });
    expect(body.services.map((s: { name: string; weights: object }) => [s.name, s.weights])).toEqual([['predict', { blue: 90, green: 10 }]]);
    expect(body.listeners.map((l: { name: string }) => l.name)).toEqual(['default']);

    const state = full.store.current();
    expect(state.revision).toBe(5);
    expect(Object.keys(state.listeners)).toEqual(['default']);
    expect(state.services['predict']?.weights).toEqual({ blue: 90, green: 10 });
    const [entry] = (await send(full.app, 'GET', '/v1/audit?limit=1')).json().entries;
    expect(entry).toMatchObject({ revision: 5, actor: 'carol', change: { kind: 'restoreRevision', revision: 2 }, summary: 'restore revision 2' });
  });

  it('refuses a stale If-Match with 412 and changes nothing', async () => {
    const res = await send(full.app, 'POST', '/v1/revisions/1/restore', undefined, { 'if-match': '3' });
    expect(res.statusCode).toBe(412);
    expect(res.json().error.code).toBe('SLUICE_REVISION_MISMATCH');
    expect(full.store.current().revision).toBe(4);
  });

  it('answers 404 for a revision past the current one and 400 for one that is not a revision number', async () => {
    const unknown = await send(full.app, 'POST', '/v1/revisions/5/restore');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('SLUICE_REVISION_NOT_FOUND');
    for (const bad of ['0', 'abc', '-1', '1.5']) {
      const res = await send(full.app, 'POST', `/v1/revisions/${bad}/restore`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'SLUICE_INVALID_PARAM', path: '/revision' });
    }
    const withBody = await send(full.app, 'POST', '/v1/revisions/1/restore', { revision: 1 });
    expect(withBody.statusCode).toBe(400);
    expect(withBody.json().error.code).toBe('SLUICE_INVALID_BODY');
    expect(full.store.current().revision).toBe(4);
  });
});

it('GET /v1/revisions/{n} still reports the fleet on revision n', async () => {
  const res = await send(full.app, 'GET', '/v1/revisions/4');
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ revision: 4, current: 4, complete: true, proxies: [] });
  expect((await send(full.app, 'GET', '/v1/revisions/5')).json().error.code).toBe('SLUICE_REVISION_NOT_FOUND');
});
