// Load reports from a real Envoy (LRS): requests and errors per cluster reach sluice, so rollout
// analysis can judge a version from the fleet's own traffic.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { sendRequests } from './traffic.js';
import { blueGreenService } from '../support/services.js';

let stack: SluiceStack;
let blue: ModelServer;
let green: ModelServer;

beforeAll(async () => {
  blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model, failureRate: 1 });
  stack = await startStack({ nodeId: 'lrs-envoy' });
  const put = await stack.admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
  await stack.waitApplied(put.json.revision);
});

afterAll(async () => {
  await stack?.stop();
  await blue?.close();
  await green?.close();
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
