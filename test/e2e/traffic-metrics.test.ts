// Traffic metrics from a real Envoy: requests sent through Envoy at a 70/30 split show up on
// sluice's /metrics as requests and errors per service version (from Envoy's load reports), next
// to the weights that made the split.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SluiceStack } from '../support/sluice-stack.js';
import { startFailingGreen, type FailingGreen } from './failing-green.js';
import { sendRequests, withinBinomialTolerance } from './traffic.js';

let stack: SluiceStack;
let setup: FailingGreen | undefined;

beforeAll(async () => {
  // Every green request fails (503): its requests are all errors.
  setup = await startFailingGreen('traffic-metrics-envoy');
  stack = setup.stack;
});

afterAll(async () => {
  await setup?.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${stack.sluice.adminUrl}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one series in a scrape; undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface VersionTraffic {
  requests: number | undefined;
  errors: number | undefined;
}

async function traffic(): Promise<Record<'blue' | 'green', VersionTraffic>> {
  const text = await scrape();
  const of = (version: string): VersionTraffic => ({
    requests: value(text, `sluice_version_requests_total{service="predict",version="${version}"}`),
    errors: value(text, `sluice_version_errors_total{service="predict",version="${version}"}`),
  });
  return { blue: of('blue'), green: of('green') };
}

describe('traffic metrics from a real Envoy', () => {
  it('count the requests and errors each version served at a 70/30 split, next to its weight', async () => {
    // Envoy does not count a cluster's first report period: wait until it reported both clusters.
    const loads = stack.sluice.loadStats;
    await expect.poll(() => loads.isReported('predict_blue') && loads.isReported('predict_green'), { timeout: 15_000 }).toBe(true);

    const weights = await stack.admin('PUT', '/v1/services/predict/weights', { blue: 70, green: 30 });
    expect(weights.status).toBe(200);
    await stack.waitApplied(weights.json.revision);
    const text = await scrape();
    expect(value(text, 'sluice_service_weight{service="predict",version="blue"}')).toBe(70);
    expect(value(text, 'sluice_service_weight{service="predict",version="green"}')).toBe(30);

    const before = await traffic();
    expect(before.blue.requests).toBeDefined();
    expect(before.green.requests).toBeDefined();

    const sent = 300;
    const tally = await sendRequests(`${stack.listenerUrl}/predict`, sent, 6);
    expect(tally.total).toBe(sent);
    const servedByBlue = tally.byVersion['blue'] ?? 0;
    // Every failure is a green request (blue never fails), so the split is blue against failures.
    expect(tally.failures.every((f) => f.startsWith('status 503'))).toBe(true);
    expect(servedByBlue + tally.failed).toBe(sent);
    expect(withinBinomialTolerance(servedByBlue, sent, 0.7)).toBe(true);

    // Load reports arrive every 2 s; wait on the metric itself until all of them have.
    const grew = async () => {
      const now = await traffic();
      return {
        blue: { requests: now.blue.requests! - before.blue.requests!, errors: now.blue.errors! - before.blue.errors! },
        green: { requests: now.green.requests! - before.green.requests!, errors: now.green.errors! - before.green.errors! },
      };
    };
    await expect
      .poll(grew, { timeout: 15_000, interval: 250 })
      .toEqual({ blue: { requests: servedByBlue, errors: 0 }, green: { requests: tally.failed, errors: tally.failed } });
  });
});
