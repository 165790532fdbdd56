// Load reports from a real Envoy (LRS): requests and errors per cluster reach sluice, so rollout
// analysis can judge a version from the fleet's own traffic.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SluiceStack } from '../support/sluice-stack.js';
import { startFailingGreen, type FailingGreen } from './failing-green.js';
import { sendRequests } from './traffic.js';

let stack: SluiceStack;
let setup: FailingGreen | undefined;

beforeAll(async () => {
  // Every green request fails (503): its requests are all errors.
  setup = await startFailingGreen('lrs-envoy');
  stack = setup.stack;
});

afterAll(async () => {
  await setup?.stop();
});

describe('load reports (LRS) from a real Envoy', () => {
  it('count requests and errors per version cluster', async () => {
    // Envoy starts counting a new cluster's load from its first report on it.
    const loads = stack.sluice.loadStats;
    await expect.poll(() => loads.isReported('predict_blue') && loads.isReported('predict_green'), { timeout: 15_000 }).toBe(true);
    const since = Date.now();
    const ok = await sendRequests(`${stack.listenerUrl}/predict`, 40, 4);
    expect(ok.byVersion).toEqual({ blue: 40 });
    const failing = await sendRequests(`${stack.listenerUrl}/predict`, 15, 3, { 'x-sluice-version': 'green' });
    expect(failing.failed).toBe(15);

    await expect.poll(() => loads.totals('predict_blue', since), { timeout: 15_000, interval: 200 }).toEqual({ requests: 40, errors: 0 });
    await expect.poll(() => loads.totals('predict_green', since), { timeout: 15_000, interval: 200 }).toEqual({ requests: 15, errors: 15 });
  });
});
