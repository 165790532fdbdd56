// The rate limit on changes: N mutations per second from one client, then 429
// SLUICE_RATE_LIMITED with Retry-After and nothing changed; reads never limited; refused
// (unauthenticated) changes count too; a new second lets changes through again.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h.cleanup();
});

it('answers 429 beyond the limit, changes nothing then, and lets changes through in the next second', async () => {
  h = await openHarness({ deps: { mutationRateLimit: 3 } });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(h.app, 'POST', '/v1/services/predict/rollback')).statusCode);
  expect(statuses).toEqual([404, 404, 404]);
  const limited = await send(h.app, 'PUT', '/v1/services/predict', predictBody());
  expect(limited.statusCode).toBe(429);
  expect(limited.json().error).toMatchObject({ code: 'SLUICE_RATE_LIMITED', message: expect.stringMatching(/at most 3 per second/) });
  expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(h.store.current().revision).toBe(0);

  for (let i = 0; i < 20; i++) expect((await send(h.app, 'GET', '/v1/services')).statusCode).toBe(200);

  await sleep(1100);
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
});

it('counts changes refused for a missing or wrong token', async () => {
  h = await openHarness({ deps: { mutationRateLimit: 2, auth: { token: 'right', reads: false } } });
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { authorization: 'Bearer wrong' })).statusCode).toBe(401);
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(401);
  const limited = await send(h.app, 'PUT', '/v1/services/predict', predictBody(), { authorization: 'Bearer right' });
  expect(limited.statusCode).toBe(429);
  expect(h.store.current().revision).toBe(0);
});
