// The pin header through a real Envoy: a value naming a version pins it whatever the weights; any
// other value (a typo, another case, empty) is answered 400 by Envoy itself with a body naming
// the header and the versions, and without the served-version header, instead of being served
// by the split; a value an A/B rule matches on the pin header still goes to that rule. Blue and
// green model servers on loopback, all traffic to blue.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { blueGreenService } from '../support/services.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';

let stack: SluiceStack;
let blue: ModelServer;
let green: ModelServer;

interface Answer {
  status: number;
  /** x-sluice-version on the response, null when absent. */
  served: string | null;
  contentType: string | null;
  body: string;
}

async function call(headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${stack.listenerUrl}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"features":[1,2,3]}',
  });
  return {
    status: response.status,
    served: response.headers.get('x-sluice-version'),
    contentType: response.headers.get('content-type'),
    body: await response.text(),
  };
}

/** The version a model server wrote in its answer. */
const bodyVersion = (answer: Answer): string | undefined => (JSON.parse(answer.body) as { version?: string }).version;

async function apply(body: Record<string, unknown>): Promise<void> {
  const result = await stack.admin('PUT', '/v1/services/predict', body);
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  await stack.waitApplied(result.json.revision);
}

beforeAll(async () => {
  blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
  stack = await startStack({ nodeId: 'pin-header-envoy' });
});

afterAll(async () => {
  await stack?.stop();
  await blue?.close();
  await green?.close();
});

const UNKNOWN = 'unknown version in x-sluice-version; known versions: blue, green\n';

describe('the pin header through a real Envoy (blue 100 %, green 0 %)', () => {
  it('pins a named version, refuses any other value with a 400 of its own, and leaves requests without it to the split', async () => {
    await apply(blueGreenService(blue, green));

    // Every request below, twice over, so no answer is a one-off.
    for (let round = 0; round < 2; round++) {
      const pinned = await call({ 'x-sluice-version': 'green' });
      expect(pinned.status).toBe(200);
      expect(pinned.served).toBe('green');
      expect(bodyVersion(pinned)).toBe('green');

      const pinnedBlue = await call({ 'x-sluice-version': 'blue' });
      expect([pinnedBlue.status, pinnedBlue.served, bodyVersion(pinnedBlue)]).toEqual([200, 'blue', 'blue']);

      const split = await call({});
      expect([split.status, split.served, bodyVersion(split)]).toEqual([200, 'blue', 'blue']);

      // A typo, another case (matching is exact and case-sensitive), an empty value.
      for (const value of ['purple', 'Green', 'GREEN', '']) {
        const refused = await call({ 'x-sluice-version': value });
        expect(refused.status, JSON.stringify(value)).toBe(400);
        expect(refused.body, JSON.stringify(value)).toBe(UNKNOWN);
        expect(refused.served, `${JSON.stringify(value)} names no version, so none served it`).toBeNull();
        expect(refused.contentType).toMatch(/^text\/plain/);
      }
    }
    // Envoy understood every field sluice sent.
    expect((await stack.envoy.stats('server.dynamic_unknown_fields'))['server.dynamic_unknown_fields']).toBe(0);
  });

  it('a value an A/B rule matches on the pin header goes to that rule, not to the 400', async () => {
    await apply(blueGreenService(blue, green, { rules: [{ match: { headers: { 'x-sluice-version': 'early-access' } }, to: 'green' }] }));

    const ruled = await call({ 'x-sluice-version': 'early-access' });
    expect([ruled.status, ruled.served, bodyVersion(ruled)]).toEqual([200, 'green', 'green']);

    const refused = await call({ 'x-sluice-version': 'early' });
    expect([refused.status, refused.served, refused.body]).toEqual([400, null, UNKNOWN]);

    const pinned = await call({ 'x-sluice-version': 'blue' });
    expect([pinned.status, pinned.served, bodyVersion(pinned)]).toEqual([200, 'blue', 'blue']);
    const split = await call({});
    expect([split.status, split.served, bodyVersion(split)]).toEqual([200, 'blue', 'blue']);
  });
});
