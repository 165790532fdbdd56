// The seed scenario through a real Envoy over ADS SotW, ADS delta and the per-type services: blue
// and green model servers and sluice in this process; weights 100/0 → 90/10 → 50/50 → 0/100 and a
// rollback, checked with real requests; then sluice restarts while requests flow, and Envoy gets
// nothing new (over delta: no response at all). Starts its own model servers and Envoy.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { REPO_ROOT } from '../support/envoy-binary.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { predictOnce, sendRequests, withinBinomialTolerance, type Tally } from './traffic.js';
import { blueGreenService } from '../support/services.js';

const REQUESTS_PER_STEP = 400;
const NODE_ID = 'e2e-envoy';

interface Mode {
  name: string;
  bootstrap: string;
  kind: 'sotw' | 'delta';
  /** One ADS stream, or one stream per resource type. */
  aggregated: boolean;
}

function scenario({ name, bootstrap, kind, aggregated }: Mode): void {
  let blue: ModelServer;
  let green: ModelServer;
  let stack: SluiceStack;
  let predictUrl: string;
  const admin = (method: string, path: string, body?: unknown) => stack.admin(method, path, body);
  const waitApplied = (revision: number, timeoutMs?: number) => stack.waitApplied(revision, timeoutMs);

  async function routeWeights(): Promise<Record<string, number>> {
    const dump = await stack.envoy.configDump('dynamic_route_configs');
    const config = dump.configs[0].route_config;
    const split = config.virtual_hosts[0].routes.find((r: any) => r.name === 'predict_split');
    return Object.fromEntries(split.route.weighted_clusters.clusters.map((c: any) => [c.name, c.weight]));
  }

  beforeAll(async () => {
    blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
    green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
    stack = await startStack({ nodeId: NODE_ID, nodeCluster: 'e2e', bootstrapFile: join(REPO_ROOT, 'envoy', bootstrap) });
    predictUrl = `${stack.listenerUrl}/predict`;
  });

  afterAll(async () => {
    await stack?.stop();
    await blue?.close();
    await green?.close();
  });

  describe(`blue-green through a real Envoy (${name})`, () => {
    it('routes all traffic to blue once the service is defined', async () => {
      const put = await admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
      expect(put.status).toBe(200);
      const proxy = await waitApplied(put.json.revision);
      expect(proxy.envoyVersion).toMatch(/^1\.40\./);
      expect(proxy.node.cluster).toBe('e2e');
      const streams = proxy.streams.map((s: any) => [s.kind, s.aggregated]);
      if (aggregated) expect(streams).toEqual([[kind, true]]);
      else expect(new Set(streams.map(String))).toEqual(new Set([String([kind, false])]));
      for (const type of ['listeners', 'routes', 'clusters', 'endpoints']) {
        expect(proxy.resources[type].ackedVersion, type).toBeTruthy();
        expect(proxy.resources[type].lastNack, type).toBeUndefined();
      }
      // The listener may still be warming its first route right after the ACK; give it a moment.
      await expect.poll(async () => (await predictOnce(predictUrl).catch(() => ({ status: 0 }))).status, { timeout: 10_000 }).toBe(200);
      const tally = await sendRequests(predictUrl, 100);
      expect(tally.failures).toEqual([]);
      expect(tally.byVersion).toEqual({ blue: 100 });
    });

    it('the pin header sends a request to green whatever the weights', async () => {
      const tally = await sendRequests(predictUrl, 50, 8, { 'x-sluice-version': 'green' });
      expect(tally.failures).toEqual([]);
      expect(tally.byVersion).toEqual({ green: 50 });
    });

    for (const [blueShare, greenShare] of [
      [90, 10],
      [50, 50],
      [0, 100],
    ] as const) {
      it(`shifts to ${blueShare}/${greenShare} without a failed request`, async () => {
        const put = await admin('PUT', '/v1/services/predict/weights', { blue: blueShare, green: greenShare });
        expect(put.status).toBe(200);
        await waitApplied(put.json.revision);
        expect(await routeWeights()).toEqual({ predict_blue: blueShare * 100, predict_green: greenShare * 100 });
        const tally = await sendRequests(predictUrl, REQUESTS_PER_STEP);
        expect(tally.failures).toEqual([]);
        const greenCount = tally.byVersion['green'] ?? 0;
        expect(tally.total).toBe(REQUESTS_PER_STEP);
        expect(
          withinBinomialTolerance(greenCount, REQUESTS_PER_STEP, greenShare / 100),
          `green served ${greenCount} of ${REQUESTS_PER_STEP} at ${greenShare}%`,
        ).toBe(true);
      });
    }

    it('rollback sends everything back to the stable version in one push', async () => {
      const rollback = await admin('POST', '/v1/services/predict/rollback');
      expect(rollback.status).toBe(200);
      await waitApplied(rollback.json.revision);
      expect(await routeWeights()).toEqual({ predict_blue: 10_000, predict_green: 0 });
      const tally = await sendRequests(predictUrl, 200);
      expect(tally.failures).toEqual([]);
      expect(tally.byVersion).toEqual({ blue: 200 });
    });

    it('keeps serving while sluice is down and gets nothing new after it restarts', async () => {
      const weights = await admin('PUT', '/v1/services/predict/weights', { blue: 50, green: 50 });
      const revision: number = weights.json.revision;
      await waitApplied(revision);
      const before = await stack.envoy.stats('listener_manager|cluster_manager|rds|control_plane');
      const dumpBefore = await stack.envoy.configDump('dynamic_active_clusters');

      let running = true;
      const tallies: Tally[] = [];
      const background = (async () => {
        while (running) tallies.push(await sendRequests(predictUrl, 20, 4));
      })();
      // Requests are flowing before sluice goes away.
      await expect.poll(() => tallies.length, { timeout: 10_000 }).toBeGreaterThan(0);
      await stack.restart(1500);
      const proxy = await waitApplied(revision, 20_000);
      // Negative check: a bounded window after the reconnect in which requests keep flowing and
      // nothing new may reach Envoy (the stats and responses below).
      await sleep(300);
      running = false;
      await background;

      const failures = tallies.flatMap((t) => t.failures);
      const total = tallies.reduce((sum, t) => sum + t.total, 0);
      expect(failures).toEqual([]);
      expect(total).toBeGreaterThan(100);
      expect(proxy.appliedRevision).toBe(revision);
      expect(stack.sluice.store.current().revision).toBe(revision);

      const after = await stack.envoy.stats('listener_manager|cluster_manager|rds|control_plane');
      // Envoy keeps this gauge for its ADS connection only.
      if (aggregated) expect(after['control_plane.connected_state']).toBe(1);
      for (const stat of [
        'listener_manager.lds.update_success',
        'listener_manager.listener_modified',
        'cluster_manager.cds.update_success',
        'cluster_manager.cluster_modified',
        'http.default.rds.default.config_reload',
      ]) {
        expect(before[stat], stat).toBeTypeOf('number');
        expect(after[stat], stat).toBe(before[stat]);
      }
      const dumpAfter = await stack.envoy.configDump('dynamic_active_clusters');
      expect(dumpAfter).toEqual(dumpBefore);
      expect(await routeWeights()).toEqual({ predict_blue: 5000, predict_green: 5000 });
      if (kind === 'delta') {
        // Delta: Envoy declares what it holds on reconnect, all of it current, so the restarted
        // sluice sends it no response at all (it only records what Envoy has).
        const fleet = stack.sluice.fleet;
        const node = fleet.list().find((p) => p.node.id === NODE_ID)!;
        const sent = Object.entries(node.types).filter(([, status]) => status.sentVersion !== undefined);
        expect(sent.map(([typeUrl]) => typeUrl)).toEqual([]);
        expect(Object.keys(node.types)).toHaveLength(4);
        expect(fleet.counters.responses).toBe(0);
      }
    });
  });
}

scenario({ name: 'ADS state-of-the-world', bootstrap: 'bootstrap-ads.yaml', kind: 'sotw', aggregated: true });
scenario({ name: 'ADS delta', bootstrap: 'bootstrap-ads-delta.yaml', kind: 'delta', aggregated: true });
scenario({ name: 'per-type services', bootstrap: 'bootstrap-per-type.yaml', kind: 'sotw', aggregated: false });
