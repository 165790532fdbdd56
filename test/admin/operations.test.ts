// Health, readiness, the proxies list and the audit route.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProxyReport } from '../../src/api/fleet.js';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('health, readiness and proxies', () => {
  it('is live whatever the readiness', async () => {
    h.ready.value = false;
    const res = await send(h.app, 'GET', '/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready only when the caller says so', async () => {
    expect((await send(h.app, 'GET', '/readyz')).statusCode).toBe(200);
    h.ready.value = false;
    const res = await send(h.app, 'GET', '/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('SLUICE_NOT_READY');
  });

  it('lists the proxies the fleet reports', async () => {
    expect((await send(h.app, 'GET', '/v1/proxies')).json()).toEqual({ proxies: [] });
    const proxy: ProxyReport = {
      node: { id: 'envoy-1', cluster: 'edge' },
      envoyVersion: '1.36.0',
      userAgent: 'envoy',
      clientVersion: '1.36.0',
      streams: [],
      appliedRevision: 1,
      inSync: true,
      services: {},
      rejected: [],
      held: [],
      warnings: [],
      resources: {},
    };
    h.proxies.push(proxy);
    expect((await send(h.app, 'GET', '/v1/proxies')).json()).toEqual({ proxies: [proxy] });
  });
});

describe('audit', () => {
  it('pages who changed what, newest first', async () => {
    await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { 'x-sluice-actor': 'alice' });
    await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 90, green: 10 });
    await send(h.app, 'POST', '/v1/services/predict/rollback', undefined, { 'x-sluice-actor': 'bob' });

    const all = await send(h.app, 'GET', '/v1/audit');
    expect(all.statusCode).toBe(200);
    expect(all.headers['etag']).toBe('"3"');
    const { revision, entries } = all.json();
    expect(revision).toBe(3);
    expect(entries.map((e: { revision: number; actor: string; summary: string }) => [e.revision, e.actor, e.summary])).toEqual([
      [3, 'bob', 'rollback predict (stable blue): blue 100, green 0'],
      [2, 'admin', 'set weights of predict (stable blue): blue 90, green 10'],
      [1, 'alice', 'put service predict'],
    ]);
    expect(entries[1].change).toEqual({ kind: 'setWeights', name: 'predict', weights: { blue: 90, green: 10 } });
    expect(new Date(entries[0].at).toISOString()).toBe(entries[0].at);

    const page = (await send(h.app, 'GET', '/v1/audit?limit=1&before=3')).json();
    expect(page.entries.map((e: { revision: number }) => e.revision)).toEqual([2]);
  });

  it.each(['limit=0', 'limit=1001', 'limit=x', 'before=-1', 'limit=1&limit=2'])('refuses %s', async (query) => {
    const res = await send(h.app, 'GET', `/v1/audit?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('SLUICE_INVALID_PARAM');
  });

  it('refuses an oversized actor name', async () => {
    const res = await send(h.app, 'POST', '/v1/services/predict/rollback', undefined, { 'x-sluice-actor': 'x'.repeat(200) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('SLUICE_INVALID_HEADER');
  });
});
