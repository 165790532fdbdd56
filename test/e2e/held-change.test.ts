// The emergency path past a rejected resource, with real Envoys. Two services share the listener's
// route configuration; one Envoy's runtime allows only tiny regexes, so it rejects rank's new
// cookie rule. That change is held back for that Envoy alone: it keeps rank as it accepted it and
// still gets every other change — predict's rollback, and rank's own weights — while a second,
// ordinary Envoy gets rank's rule. Changing rank otherwise ends the hold.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { DEFAULT_BOOTSTRAP, startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { blueGreenService } from '../support/services.js';
import { runSluice } from '../support/sluice-process.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { sendRequests } from './traffic.js';

let blue: ModelServer;
let green: ModelServer;
let stack: SluiceStack;
let ordinary: EnvoyProcess;
let dir: string;

const COOKIE_RULE = { rules: [{ match: { cookies: { beta: '1' } }, to: 'green' }] };

function rank(extra: Record<string, unknown> = {}) {
  return blueGreenService(blue, green, { match: { prefix: '/rank' }, ...extra });
}

async function proxyWhen(node: string, check: (proxy: any) => boolean, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let proxy: any;
  while (Date.now() < deadline) {
    proxy = (await stack.admin('GET', '/v1/proxies')).json.proxies.find((p: any) => p.node.id === node);
    if (proxy && check(proxy)) return proxy;
    await sleep(100);
  }
  throw new Error(`proxy ${node} never matched: ${JSON.stringify(proxy, null, 1)}`);
}

/** The weighted split of a service's route in an Envoy's active route configuration. */
async function splitOf(envoy: EnvoyProcess, service: string): Promise<{ routes: any[]; weights: Record<string, number> }> {
  const dump = await envoy.configDump('dynamic_route_configs');
  const config = dump.configs.find((c: any) => c.route_config?.name === 'default').route_config;
  const routes = config.virtual_hosts.flatMap((vh: any) => vh.routes).filter((r: any) => r.name.startsWith(`${service}_`));
  const split = routes.find((r: any) => r.name === `${service}_split`);
  const weights = Object.fromEntries(split.route.weighted_clusters.clusters.map((c: any) => [c.name.slice(service.length + 1), c.weight]));
  return { routes, weights };
}

async function waitFor<T>(probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!check(value) && Date.now() < deadline) {
    await sleep(100);
    value = await probe();
  }
  if (!check(value)) throw new Error(`never matched: ${JSON.stringify(value, null, 1)}`);
  return value;
}

beforeAll(async () => {
  blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
  dir = await mkdtemp(join(tmpdir(), 'sluice-held-'));
  const bootstrap = join(dir, 'bootstrap.yaml');
  const base = await readFile(DEFAULT_BOOTSTRAP, 'utf8');
  await writeFile(bootstrap, `${base}\nlayered_runtime:\n  layers:\n    - name: strict\n      static_layer:\n        re2.max_program_size.error_level: 5\n`);
  stack = await startStack({ nodeId: 'strict-envoy', bootstrapFile: bootstrap });
  expect((await stack.admin('PUT', '/v1/services/predict', blueGreenService(blue, green))).status).toBe(200);
  const put = await stack.admin('PUT', '/v1/services/rank', rank());
  expect(put.status).toBe(200);
  await stack.waitApplied(put.json.revision);
  ordinary = await startEnvoy({ xdsPort: stack.sluice.xdsPort, nodeId: 'ordinary-envoy' });
  await ordinary.waitLive(20_000);
});

afterAll(async () => {
  await ordinary?.stop();
  await stack?.stop();
  await blue?.close();
  await green?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a change one Envoy rejects', () => {
  it('is held back for that Envoy alone, which still gets every other change', async () => {
    const withRule = await stack.admin('PUT', '/v1/services/rank', rank(COOKIE_RULE));
    expect(withRule.status).toBe(200);

    // The strict Envoy rejected it: held, reported with Envoy's message, and it is back to ACKing.
    const held = await proxyWhen('strict-envoy', (p) => p.held.length > 0 && p.rejected.length === 0);
    expect(held.held).toMatchObject([{ unit: 'service', name: 'rank', since: withRule.json.revision, type: 'routes' }]);
    expect(held.held[0].message).toMatch(/RE2 program size/);
    expect(held.services.rank.inSync).toBe(false);
    expect(held.services.predict.inSync).toBe(true);
    // The ordinary Envoy has the rule.
    const ordinaryRank = await waitFor(() => splitOf(ordinary, 'rank'), (s) => s.routes.some((r) => r.name === 'rank_rule_0'));
    expect(ordinaryRank.routes.map((r: any) => r.name)).toContain('rank_rule_0');
    expect((await splitOf(stack.envoy, 'rank')).routes.map((r: any) => r.name)).not.toContain('rank_rule_0');
    // `sluice status` (the CLI, as its own process) says so.
    const status = await runSluice(['status', '--server', stack.sluice.adminUrl]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`held back (1):\n  strict-envoy: service rank held as before revision ${withRule.json.revision} (it rejected routes: regex`);
    expect(status.stdout).toMatch(/rank +blue +blue 100, green 0 +default +\/rank +1\/2 +-\n/);

    // An emergency on another service reaches the strict Envoy: all of predict to green.
    const predictToGreen = await stack.admin('PUT', '/v1/services/predict/weights', { blue: 0, green: 100 });
    expect(predictToGreen.status).toBe(200);
    const applied = (await stack.admin('GET', `/v1/revisions/${predictToGreen.json.revision}?service=predict&wait=10s`)).json;
    expect(applied).toMatchObject({ complete: true });
    expect((await splitOf(stack.envoy, 'predict')).weights).toEqual({ blue: 0, green: 10000 });
    const tally = await sendRequests(`${stack.listenerUrl}/predict`, 20, 4);
    expect(tally.byVersion).toEqual({ green: 20 });
    // The whole revision is not applied on the strict Envoy: rank's change is held back there.
    const whole = (await stack.admin('GET', `/v1/revisions/${predictToGreen.json.revision}`)).json;
    expect(whole.proxies.find((p: any) => p.node.id === 'strict-envoy')).toMatchObject({ applied: false, held: [{ name: 'rank' }] });

    // An emergency on the held service itself: its weights reach the strict Envoy, its rule does not.
    const rankToGreen = await stack.admin('PUT', '/v1/services/rank/weights', { blue: 0, green: 100 });
    expect(rankToGreen.status).toBe(200);
    const strictRank = await waitFor(() => splitOf(stack.envoy, 'rank'), (s) => s.weights['green'] === 10000);
    expect(strictRank.routes.map((r: any) => r.name)).not.toContain('rank_rule_0');
    expect((await proxyWhen('strict-envoy', () => true)).held).toMatchObject([{ name: 'rank' }]);
  });

  it('ends when the service is changed otherwise: the fix reaches the Envoy', async () => {
    const fixed = await stack.admin('PUT', '/v1/services/rank', rank({ weights: { blue: 0, green: 100 } }));
    expect(fixed.status).toBe(200);
    const clean = await proxyWhen('strict-envoy', (p) => p.held.length === 0 && p.inSync);
    expect(clean.services.rank).toEqual({ appliedRevision: fixed.json.revision, inSync: true });
    expect(clean.rejected).toEqual([]);
  });
});
