// Deleting a service that proxies served recently needs ?force=true: the admin app in-process
// (real SQLite store) with the real LoadStats fed load reports and the real RecentTraffic glue,
// both on one test clock, so the window edge is exact.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { LoadStats } from '../../src/fleet/load-stats.js';
import { RECENT_TRAFFIC_WINDOW_MS, RecentTraffic } from '../../src/sync/recent-traffic.js';
import type { LoadReport } from '../../src/xds/server/lrs.js';
import { rolloutBody, T0 } from '../rollout/fixtures.js';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
let loads: LoadStats;
const clock = { now: T0 };

beforeEach(async () => {
  clock.now = T0;
  loads = new LoadStats(() => clock.now);
  h = await openHarness({ deps: { serviceTraffic: new RecentTraffic(loads, () => clock.now), rolloutClock: () => clock.now } });
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
});
afterEach(async () => {
  await h.cleanup();
});

function served(nodeId: string, cluster: string, successful: number, errors = 0): LoadReport {
  return { nodeId, cluster, successful, errors, issued: successful + errors, intervalMs: 2000 };
}

const TRAFFIC_REFUSAL =
  'Service "predict" served 1,234 requests in the last 5 minutes (blue 1,100, green 134) on 2 proxies; ' +
  'deleting it makes those requests fail (404). Repeat with DELETE /v1/services/predict?force=true to delete it anyway.';

/** blue 1,100 (600 from edge-a, 500 from edge-b), green 134 from edge-b, 4 of them errors. */
function reportTraffic(): void {
  loads.report([served('edge-a', 'predict_blue', 600)]);
  loads.report([served('edge-b', 'predict_blue', 500), served('edge-b', 'predict_green', 130, 4)]);
}

it('refuses (409 SLUICE_DELETE_UNCONFIRMED) a service proxies served, saying how much, per version and on how many proxies', async () => {
  reportTraffic();
  const before = h.store.current().revision;
  for (const url of ['/v1/services/predict', '/v1/services/predict?force=false']) {
    const refused = await send(h.app, 'DELETE', url);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ error: { code: 'SLUICE_DELETE_UNCONFIRMED', message: TRAFFIC_REFUSAL } });
  }
  expect(h.store.current().revision).toBe(before);
  expect(h.store.current().services['predict']).toBeDefined();
});

it('?force=true deletes it and the answer says what traffic the delete cut off', async () => {
  reportTraffic();
  const res = await send(h.app, 'DELETE', '/v1/services/predict?force=true');
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({
    name: 'predict',
    recentTraffic: { requests: 1234, byVersion: { blue: 1100, green: 134 }, proxies: 2, windowSeconds: 300 },
  });
  expect(res.json()).not.toHaveProperty('abortedRollout');
  expect(h.store.current().services['predict']).toBeUndefined();
});

it('a service with no recent traffic deletes as before: no confirmation, nothing about traffic in the answer', async () => {
  // Reports of other clusters and empty reports (an Envoy reporting every cluster it has) do not count.
  loads.report([served('edge-a', 'search_blue', 50), served('edge-a', 'predict_blue', 0), served('edge-a', 'predict_green', 0)]);
  const res = await send(h.app, 'DELETE', '/v1/services/predict');
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({ name: 'predict' });
  expect(res.json()).not.toHaveProperty('recentTraffic');
  expect(h.store.current().services['predict']).toBeUndefined();
});

it('traffic counts for the whole window and not a millisecond beyond it', async () => {
  loads.report([served('edge-a', 'predict_green', 1)]);
  clock.now = T0 + RECENT_TRAFFIC_WINDOW_MS;
  const atEdge = await send(h.app, 'DELETE', '/v1/services/predict');
  expect(atEdge.statusCode).toBe(409);
  expect(atEdge.json().error.message).toMatch(/^Service "predict" served 1 request in the last 5 minutes \(green 1\) on 1 proxy; /);
  clock.now = T0 + RECENT_TRAFFIC_WINDOW_MS + 1;
  expect((await send(h.app, 'DELETE', '/v1/services/predict')).statusCode).toBe(200);
});

it('names both reasons when the service also has an active rollout; forced, the answer says it aborted the rollout too', async () => {
  expect((await send(h.app, 'POST', '/v1/services/predict/rollouts', rolloutBody())).statusCode).toBe(201);
  reportTraffic();
  const refused = await send(h.app, 'DELETE', '/v1/services/predict');
  expect(refused.statusCode).toBe(409);
  expect(refused.json().error).toEqual({
    code: 'SLUICE_DELETE_UNCONFIRMED',
    message:
      'Service "predict" served 1,234 requests in the last 5 minutes (blue 1,100, green 134) on 2 proxies; deleting it makes those requests fail (404). ' +
      'It also has an active rollout of "green" (progressing), which deleting it would abort. ' +
      'Repeat with DELETE /v1/services/predict?force=true to delete it anyway.',
  });
  const forced = await send(h.app, 'DELETE', '/v1/services/predict?force=true');
  expect(forced.statusCode).toBe(200);
  expect(forced.json()).toMatchObject({
    abortedRollout: { candidate: 'green', phase: 'progressing', reason: expect.stringMatching(/force=true$/) },
    recentTraffic: { requests: 1234, proxies: 2 },
  });
  expect(h.store.current().rollouts!['predict']!.phase).toBe('aborted');
});

it('an unknown service is still a 404, whatever the traffic', async () => {
  reportTraffic();
  const res = await send(h.app, 'DELETE', '/v1/services/search');
  expect(res.statusCode).toBe(404);
  expect(res.json().error.code).toBe('SLUICE_SERVICE_NOT_FOUND');
});
