// The stack the load-report tests share: a real Envoy and sluice serving `predict`, blue healthy
// and green failing every request (503), all traffic on blue until a test moves it. Starts and
// stops only what it owns.

import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { blueGreenService } from '../support/services.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';

export interface FailingGreen {
  stack: SluiceStack;
  blue: ModelServer;
  green: ModelServer;
  stop(): Promise<void>;
}

export async function startFailingGreen(nodeId: string): Promise<FailingGreen> {
  const blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  const green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model, failureRate: 1 });
  const stack = await startStack({ nodeId });
  const put = await stack.admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
  await stack.waitApplied(put.json.revision);
  return {
    stack,
    blue,
    green,
    async stop() {
      await stack.stop();
      await blue.close();
      await green.close();
    },
  };
}
