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
    const bare = await h.app.inject({ method: 'PUT', url: '/v1/services/rank', payload: Buffer.from(JSON.stringify(minimal)) });
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

    const rollbackEmptyObject = await send(h.app, 'POST', '/v1/services/predict/rollback', {});
    expect(rollbackEmptyObject.json()).toMatchObject({ revision: 7, weights: { blue: 0, green: 100 }, stable: 'green' });
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
    expect(bare.statusCode).toBe(200);
    expect(bare.json().revision).toBe(3);
  });

  it('records the actor from X-Sluice-Actor, else "admin"', async () => {
    await putPredict();
    await send(h.app, 'POST', '/v1/services/predict/rollback', undefined, { 'x-sluice-actor': 'ci-pipeline' });
    const audit = (await send(h.app, 'GET', '/v1/audit')).json();
    expect(audit.entries.map((e: { actor: string }) => e.actor)).toEqual(['ci-pipeline', 'admin']);
  });
});
