// Resources a real Envoy rejects, and what they must not do: a listener on a port Envoy cannot bind
// is reported with Envoy's message and the listener's name (held back for that Envoy), while a
// rollout of a service on another listener still completes and that service shows in sync; a
// rollout whose own route the Envoy rejects (here an Envoy whose runtime allows only tiny regexes)
// pauses at its proxyTimeout with Envoy's message, never waits for ever.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { DEFAULT_BOOTSTRAP } from '../support/envoy-process.js';
import { blueGreenService } from '../support/services.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';

let blue: ModelServer;
let green: ModelServer;

beforeAll(async () => {
  blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
});

afterAll(async () => {
  await blue?.close();
  await green?.close();
});

/** A rollout of timed holds only (no metrics): it moves as fast as the proxies apply its steps. */
function timedRollout(proxyTimeout: string) {
  return {
    candidate: 'green',
    steps: [
      { weight: 50, hold: '1s' },
      { weight: 100, hold: '1s' },
    ],
    analysis: { interval: '1s', metrics: [] },
    proxyTimeout,
  };
}

/** The rollout once its phase is one of `phases`; fails with its timeline after `timeoutMs`. */
async function waitForRollout(stack: SluiceStack, phases: string[], timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let rollout: any;
  while (Date.now() < deadline) {
    rollout = (await stack.admin('GET', '/v1/services/predict/rollout')).json;
    if (phases.includes(rollout.phase)) return rollout;
    await sleep(100);
  }
  throw new Error(`rollout still ${rollout?.phase}: ${JSON.stringify(rollout?.timeline, null, 1)}`);
}

/** The proxy's report once `check` holds for it (bounded). */
async function proxyWhen(stack: SluiceStack, check: (proxy: any) => boolean, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let proxy: any;
  while (Date.now() < deadline) {
    proxy = (await stack.admin('GET', '/v1/proxies')).json.proxies[0];
    if (proxy && check(proxy)) return proxy;
    await sleep(100);
  }
  throw new Error(`proxy never matched: ${JSON.stringify(proxy, null, 1)}`);
}

describe('a listener Envoy cannot bind', () => {
  let stack: SluiceStack;
  let portHolder: Server;
  let heldPort: number;

  beforeAll(async () => {
    portHolder = createServer();
    await new Promise<void>((resolve) => portHolder.listen(0, '127.0.0.1', resolve));
    heldPort = (portHolder.address() as { port: number }).port;
    stack = await startStack({ nodeId: 'clash-envoy' });
    const put = await stack.admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
    expect(put.status).toBe(200);
    await stack.waitApplied(put.json.revision);
  });

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => portHolder?.close(resolve));
  });

  it("is reported with Envoy's message, and another service's rollout still completes", async () => {
    const clash = await stack.admin('PUT', '/v1/listeners/clash', { address: '127.0.0.1', port: heldPort });
    expect(clash.status).toBe(200);

    // Rejected, then held back for this Envoy: it gets everything else.
    const rejecting = await proxyWhen(stack, (proxy) => proxy.held.length > 0);
    expect(rejecting.held).toMatchObject([{ unit: 'listener', name: 'clash', since: clash.json.revision, type: 'listeners' }]);
    expect(rejecting.held[0].message).toMatch(/address already in use/i);
    // The whole revision is not applied; the service is, and says so.
    const whole = (await stack.admin('GET', `/v1/revisions/${clash.json.revision}`)).json;
    expect(whole.proxies[0]).toMatchObject({ applied: false, held: [{ unit: 'listener', name: 'clash' }] });
    const predict = (await stack.admin('GET', `/v1/revisions/${clash.json.revision}?service=predict`)).json;
    expect(predict).toMatchObject({ service: 'predict', complete: true, proxies: [{ applied: true }] });
    expect(rejecting.services.predict.inSync).toBe(true);
    expect(rejecting.inSync).toBe(false);

    const started = await stack.admin('POST', '/v1/services/predict/rollouts', timedRollout('30s'));
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    const done = await waitForRollout(stack, ['succeeded', 'paused', 'rolled-back', 'aborted'], 60_000);
    expect(done.phase, JSON.stringify(done.timeline, null, 1)).toBe('succeeded');

    // Envoy holds the promoted weights although it still rejects the listener.
    const promoted = await stack.admin('GET', '/v1/services/predict');
    expect(promoted.json.weights).toEqual({ blue: 0, green: 100 });
    const after = await proxyWhen(stack, (proxy) => proxy.services.predict?.inSync === true);
    expect(after.held.map((h: any) => h.name)).toEqual(['clash']);
    const routes = await stack.envoy.configDump('dynamic_route_configs');
    expect(JSON.stringify(routes)).toMatch(/"name":"predict_green","weight":10000/);
  });

  it('removing the rejected listener clears the rejection and the proxy is in sync again', async () => {
    const moved = await stack.admin('DELETE', '/v1/listeners/clash');
    expect(moved.status).toBe(200);
    const clean = await proxyWhen(stack, (proxy) => proxy.rejected.length === 0 && proxy.held.length === 0 && proxy.inSync);
    expect(clean.appliedRevision).toBe(moved.json.revision);
  });
});

describe('a rollout whose own route the Envoy rejects', () => {
  let stack: SluiceStack;
  let dir: string;

  beforeAll(async () => {
    // An Envoy whose runtime allows only tiny regexes: the cookie rule's regex is rejected there.
    dir = await mkdtemp(join(tmpdir(), 'sluice-tiny-re2-'));
    const bootstrap = join(dir, 'bootstrap.yaml');
    const base = await readFile(DEFAULT_BOOTSTRAP, 'utf8');
    await writeFile(bootstrap, `${base}\nlayered_runtime:\n  layers:\n    - name: strict\n      static_layer:\n        re2.max_program_size.error_level: 5\n`);
    stack = await startStack({ nodeId: 'strict-envoy', bootstrapFile: bootstrap });
    const put = await stack.admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
    expect(put.status).toBe(200);
    await stack.waitApplied(put.json.revision);
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pauses at its proxyTimeout, naming the proxy and Envoy’s message', async () => {
    const withRule = await stack.admin('PUT', '/v1/services/predict', blueGreenService(blue, green, { rules: [{ match: { cookies: { beta: '1' } }, to: 'green' }] }));
    expect(withRule.status).toBe(200);
    const rejecting = await proxyWhen(stack, (proxy) => proxy.held.length > 0);
    const rejection = rejecting.held[0];
    expect(rejection).toMatchObject({ unit: 'service', name: 'predict', type: 'routes' });
    expect(rejecting.services.predict.inSync).toBe(false);

    const started = await stack.admin('POST', '/v1/services/predict/rollouts', timedRollout('2s'));
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    const paused = await waitForRollout(stack, ['paused', 'succeeded', 'rolled-back', 'aborted'], 30_000);
    expect(paused.phase).toBe('paused');
    const reason = paused.timeline.at(-1).reason as string;
    expect(reason).toContain('proxyTimeout 2s');
    expect(reason).toContain('"strict-envoy" (last NACK: routes: ');
    expect(reason).toContain(rejection.message.slice(0, 40));
  });
});
