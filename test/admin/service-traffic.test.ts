// `GET /v1/services/{name}/traffic` in-process with the real LoadStats fed load reports and the
// real RecentTraffic glue on one test clock: each version's requests and errors land in the
// 10-second interval they were reported in, the window is 30 of them ending with the current one,
// older reports fall out, and an unknown service is a 404.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { LoadStats } from '../../src/fleet/load-stats.js';
import { RecentTraffic, TRAFFIC_INTERVAL_MS } from '../../src/sync/recent-traffic.js';
import type { LoadReport } from '../../src/xds/server/lrs.js';
import { T0 } from '../rollout/fixtures.js';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
let loads: LoadStats;
const clock = { now: T0 };

beforeEach(async () => {
  clock.now = T0;
  loads = new LoadStats(() => clock.now);
  const traffic = new RecentTraffic(loads, () => clock.now);
  h = await openHarness({ deps: { serviceTraffic: traffic, trafficHistory: traffic } });
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
});
afterEach(async () => {
  await h.cleanup();
});

function served(cluster: string, successful: number, errors = 0): LoadReport {
  return { nodeId: 'edge-a', cluster, successful, errors, issued: successful + errors, intervalMs: 2000 };
}

async function traffic(): Promise<any> {
  const answer = await send(h.app, 'GET', '/v1/services/predict/traffic');
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json();
}

it('puts each version’s requests and errors in the interval they were reported in, oldest first', async () => {
  loads.report([served('predict_blue', 90), served('predict_green', 8, 2)]);
  clock.now = T0 + 2 * TRAFFIC_INTERVAL_MS;
  loads.report([served('predict_blue', 40)]);

  const answer = await traffic();
  expect(answer).toMatchObject({ service: 'predict', intervalSeconds: 10 });
  expect(Object.keys(answer.versions)).toEqual(['blue', 'green']);
  expect(answer.versions.blue).toHaveLength(30);
  const firstAt = Date.parse(answer.from);
  const slot = (at: number): number => Math.floor((at - firstAt) / TRAFFIC_INTERVAL_MS);
  // The current interval is the last one; the first reports are two intervals before it.
  expect(slot(clock.now)).toBe(29);
  expect(answer.versions.blue[29]).toEqual({ requests: 40, errors: 0 });
  expect(answer.versions.blue[slot(T0)]).toEqual({ requests: 90, errors: 0 });
  expect(answer.versions.green[slot(T0)]).toEqual({ requests: 10, errors: 2 });
  const total = (version: string): number => answer.versions[version].reduce((sum: number, interval: { requests: number }) => sum + interval.requests, 0);
  expect([total('blue'), total('green')]).toEqual([130, 10]);

  // Five minutes later the first reports are out of the window.
  clock.now = T0 + 31 * TRAFFIC_INTERVAL_MS;
  const later = await traffic();
  expect(later.versions.green.every((interval: { requests: number }) => interval.requests === 0)).toBe(true);
  expect(later.versions.blue.reduce((sum: number, interval: { requests: number }) => sum + interval.requests, 0)).toBe(40);
});

it('answers 404 for an unknown service', async () => {
  const answer = await send(h.app, 'GET', '/v1/services/nope/traffic');
  expect(answer.statusCode).toBe(404);
  expect(answer.json()).toMatchObject({ error: { code: 'SLUICE_SERVICE_NOT_FOUND' } });
});
