// Service routes through inject(): the seed scenario's happy paths, ETags, If-Match and actors.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.cleanup();
});

async function putPredict() {
  const res = await send(h.app, 'PUT', '/v1/services/predict', predictBody());
  expect(res.statusCode).toBe(200);
  return res;
}

describe('services', () => {
  it('accepts the PRODUCT.md service body sent the way curl -d sends it, and answers revision + service + ETag', async () => {
    const res = await putPredict();
    expect(res.headers['etag']).toBe('"1"');
    expect(res.json()).toEqual({ revision: 1, name: 'predict', ...predictBody() });
    expect(h.store.current().services['predict']?.weights).toEqual({ blue: 100, green: 0 });
  });

  it('accepts application/json, no content type at all, and fills defaults for a minimal body', async () => {
    const minimal = { match: { prefix: '/rank' }, versions: [{ name: 'v1', endpoints: [{ address: 'ranker', port: 80 }] }] };
    const res = await h.app.inject({
      method: 'PUT',
      url: '/v1/services/rank',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(minimal),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      revision: 1,
      name: 'rank',
      listener: 'default',
      match: { prefix: '/rank' },
      hosts: ['*'],
      versions: minimal.versions,
      weights: { v1: 100 },
      stable: 'v1',
      pinHeader: 'x-sluice-version',
      timeout: '30s',
    });
    const bare = await h.app.inject({
      method: 'PUT',
      url: '/v1/services/rank',
      payload: Buffer.from(JSON.stringify({ ...minimal, timeout: '5s' })),
    });
    expect(bare.statusCode).toBe(200);
    expect(bare.json().revision).toBe(2);
  });

  it('lists and reads services with the current revision', async () => {
    await putPredict();
    const list = await send(h.app, 'GET', '/v1/services');
    expect(list.statusCode).toBe(200);
    expect(list.headers['etag']).toBe('"1"');
    expect(list.json()).toEqual({ revision: 1, services: [{ name: 'predict', ...predictBody() }] });
    const one = await send(h.app, 'GET', '/v1/services/predict');
    expect(one.json()).toEqual({ revision: 1, name: 'predict', ...predictBody() });
    const missing = await send(h.app, 'GET', '/v1/services/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'SLUICE_SERVICE_NOT_FOUND', message: 'No service is named "nope".' } });
  });

  it('walks the seed scenario: 10% → 50/50 → 90% → promote, with rollback back to stable', async () => {
    await putPredict();
    for (const [green, revision] of [
      [10, 2],
      [50, 3],
      [90, 4],
    ] as const) {
      const res = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 100 - green, green });
      expect(res.statusCode).toBe(200);
      expect(res.headers['etag']).toBe(`"${revision}"`);
      expect(res.json()).toMatchObject({ revision, weights: { blue: 100 - green, green }, stable: 'blue' });
    }
    const rollback = await send(h.app, 'POST', '/v1/services/predict/rollback');
    expect(rollback.json()).toMatchObject({ revision: 5, weights: { blue: 100, green: 0 }, stable: 'blue' });

    const promote = await send(h.app, 'POST', '/v1/services/predict/promote', { version: 'green' });
    expect(promote.statusCode).toBe(200);
    expect(promote.json()).toMatchObject({ revision: 6, weights: { blue: 0, green: 100 }, stable: 'green' });

    // Already all on the stable version: a rollback changes nothing and makes no revision.
    const rollbackEmptyObject = await send(h.app, 'POST', '/v1/services/predict/rollback', {});
    expect(rollbackEmptyObject.statusCode).toBe(200);
    expect(rollbackEmptyObject.json()).toMatchObject({ revision: 6, unchanged: true, weights: { blue: 0, green: 100 }, stable: 'green' });
  });

  it('answers a change that changes nothing with the current revision and unchanged, storing nothing; If-Match still checked', async () => {
    await putPredict();
    const shift = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 });
    expect(shift.json()).toMatchObject({ revision: 2, weights: { blue: 90, green: 10 } });
    expect(shift.json()).not.toHaveProperty('unchanged');
    for (let i = 0; i < 64; i += 1) {
      const same = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 }, { 'if-match': '"2"' });
      expect(same.statusCode).toBe(200);
      expect(same.headers['etag']).toBe('"2"');
      expect(same.json()).toEqual({ revision: 2, unchanged: true, name: 'predict', ...predictBody(), weights: { blue: 90, green: 10 } });
    }
    const samePut = await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), weights: { blue: 90, green: 10 } });
    expect(samePut.json()).toMatchObject({ revision: 2, unchanged: true });
    const sameListener = await send(h.app, 'PUT', '/v1/listeners/default', h.store.current().listeners['default']);
    expect(sameListener.json()).toMatchObject({ revision: 2, unchanged: true });
    const stale = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    expect(h.store.current().revision).toBe(2);
    expect((await send(h.app, 'GET', '/v1/audit')).json().entries).toHaveLength(2);
    const restore = await send(h.app, 'POST', '/v1/revisions/2/restore');
    expect(restore.json()).toMatchObject({ revision: 2, restored: 2, unchanged: true });
  });

  it('explains weights given as fractions: they are percentages summing to 100', async () => {
    await putPredict();
    const res = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 0.9, green: 0.1 });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      error: {
        code: 'SLUICE_WEIGHTS_SUM',
        message: 'Weights are percentages and must sum to 100; these sum to 1 — did you mean blue: 90, green: 10?',
        path: '',
      },
    });
    const inBody = await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), weights: { blue: 0.5, green: 0.5 } });
    expect(inBody.json().error).toMatchObject({ code: 'SLUICE_WEIGHTS_SUM', path: '/weights' });
    expect(inBody.json().error.message).toMatch(/did you mean blue: 50, green: 50\?$/);
    const short = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 9 });
    expect(short.json().error).toEqual({ code: 'SLUICE_WEIGHTS_SUM', message: 'Weights must sum to exactly 100; they sum to 99.', path: '' });
  });

  it('gives versions left out of a weights body 0', async () => {
    await putPredict();
    const res = await send(h.app, 'PUT', '/v1/services/predict/weights', { green: 100 });
    expect(res.json().weights).toEqual({ blue: 0, green: 100 });
  });

  it('deletes a service, answering with what was removed', async () => {
    await putPredict();
    const res = await send(h.app, 'DELETE', '/v1/services/predict');
    expect(res.statusCode).toBe(200);
    expect(res.headers['etag']).toBe('"2"');
    expect(res.json()).toEqual({ revision: 2, name: 'predict', ...predictBody() });
    expect((await send(h.app, 'GET', '/v1/services')).json()).toEqual({ revision: 2, services: [] });
    expect((await send(h.app, 'DELETE', '/v1/services/predict')).statusCode).toBe(404);
  });

  it('applies a mutation whose If-Match is current, quoted or not', async () => {
    await putPredict();
    const quoted = await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 50, green: 50 }, { 'if-match': '"1"' });
    expect(quoted.statusCode).toBe(200);
    const bare = await send(h.app, 'POST', '/v1/services/predict/rollback', undefined, { 'if-match': '2' });
    expect(bare.json()).not.toHaveProperty('unchanged');
    expect(bare.statusCode).toBe(200);
    expect(bare.json().revision).toBe(3);
  });

  it('records the actor from X-Sluice-Actor, else "admin"', async () => {
    await putPredict();
    await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 }, { 'x-sluice-actor': 'ci-pipeline' });
    const audit = (await send(h.app, 'GET', '/v1/audit')).json();
    expect(audit.entries.map((e: { actor: string }) => e.actor)).toEqual(['ci-pipeline', 'admin']);
  });
});
