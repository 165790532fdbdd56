// The composition root hands the admin API what the configuration asks for: the token (and
// whether reads need it), the rate limit on changes, and the node resources view. Real
// listening servers, no Envoy.

import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { predictBody } from './harness.js';

const TOKEN = 'wiring-token-5be1';
let sluice: RunningSluice;

afterEach(async () => {
  await sluice.stop();
});

it('applies the configured token, reads rule and rate limit, and serves node resources', async () => {
  sluice = await startSluice(
    {
      ...DEFAULT_CONFIG,
      xdsHost: '127.0.0.1',
      xdsPort: 0,
      adminPort: 0,
      statePath: ':memory:',
      adminToken: TOKEN,
      adminAuthReads: true,
      adminRateLimit: 2,
    },
    pino({ level: 'silent' }),
  );
  const call = (method: string, path: string, token?: string) =>
    fetch(`${sluice.adminUrl}${path}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(method === 'PUT' ? { body: JSON.stringify(predictBody()) } : {}),
    });

  expect((await call('GET', '/v1/services')).status).toBe(401);
  expect((await call('GET', '/healthz')).status).toBe(200);
  expect((await call('PUT', '/v1/services/predict')).status).toBe(401);
  expect((await call('PUT', '/v1/services/predict', TOKEN)).status).toBe(200);
  expect((await call('PUT', '/v1/services/predict', TOKEN)).status).toBe(429);
  expect((await sluice.store.audit({ limit: 10 })).map((e) => e.actor)).toEqual(['token']);

  const resources = await call('GET', '/v1/nodes/edge-1/resources', TOKEN);
  expect(resources.status).toBe(200);
  const answer = (await resources.json()) as { resources: { clusters: unknown[] } };
  expect(answer.resources.clusters.length).toBeGreaterThan(0);
});
