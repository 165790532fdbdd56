// Dropping a version that still carries weight (80/10/10 → 100/0 without the canary) through a
// real Envoy over ADS SotW, ADS delta and the per-type services, repeated while requests flow: no
// request may fail (a route naming a cluster Envoy dropped is a 503 NC) and Envoy ends without the
// canary cluster. Starts its own model servers and Envoy; changes state only through the admin API.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { REPO_ROOT } from '../support/envoy-binary.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { sendRequests, type Tally } from './traffic.js';

const CYCLES = 8;

interface Mode {
  name: string;
  bootstrap: string;
}

function scenario({ name, bootstrap }: Mode): void {
  const servers: Record<string, ModelServer> = {};
  let stack: SluiceStack;
  let predictUrl: string;

  function body(weights: Record<string, number>): Record<string, unknown> {
    return {
      match: { prefix: '/predict' },
      versions: Object.keys(weights).map((version) => ({ name: version, endpoints: [{ address: '127.0.0.1', port: servers[version]!.port }] })),
      weights,
      stable: 'blue',
    };
  }

  async function apply(weights: Record<string, number>): Promise<void> {
    const put = await stack.admin('PUT', '/v1/services/predict', body(weights));
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    await stack.waitApplied(put.json.revision);
  }

  async function clusterNames(): Promise<string[]> {
    const dump = await stack.envoy.configDump('dynamic_active_clusters');
    return dump.configs.map((c: any) => c.cluster.name).sort();
  }

  beforeAll(async () => {
    for (const version of ['blue', 'green', 'canary']) {
      servers[version] = await startModelServer({ version, port: 0, model: DEMO_MODELS[version === 'blue' ? 'blue' : 'green']!.model });
    }
    stack = await startStack({ nodeId: 'removal-envoy', nodeCluster: 'e2e', bootstrapFile: join(REPO_ROOT, 'envoy', bootstrap) });
    predictUrl = `${stack.listenerUrl}/predict`;
  });

  afterAll(async () => {
    await stack?.stop();
    for (const server of Object.values(servers)) await server.close();
  });

  describe(`dropping a weighted version through a real Envoy (${name})`, () => {
    it('80/10/10 → 100/0 without the canary, repeatedly: no failed request, and Envoy ends without the canary cluster', async () => {
      const failures: string[] = [];
      let total = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await apply({ blue: 80, green: 10, canary: 10 });
        // The canary serves before it is dropped, so requests are on their way to it at the change.
        await expect
          .poll(async () => {
            const tally = await sendRequests(predictUrl, 40, 8);
            return tally.failed === 0 && (tally.byVersion['canary'] ?? 0) > 0;
          }, { timeout: 10_000 })
          .toBe(true);
        expect(await clusterNames()).toContain('predict_canary');

        let running = true;
        const tallies: Tally[] = [];
        const traffic = (async () => {
          while (running) tallies.push(await sendRequests(predictUrl, 40, 8));
        })();
        try {
          // Requests are flowing before the change goes out.
          await expect.poll(() => tallies.length, { timeout: 10_000 }).toBeGreaterThan(0);
          await apply({ blue: 100, green: 0 });
          expect(await clusterNames()).toEqual(['predict_blue', 'predict_green']);
        } finally {
          running = false;
          await traffic;
        }
        failures.push(...tallies.flatMap((t) => t.failures.map((f) => `cycle ${cycle}: ${f}`)));
        total += tallies.reduce((sum, t) => sum + t.total, 0);
      }

      expect(failures).toEqual([]);
      expect(total).toBeGreaterThanOrEqual(CYCLES * 40);
      expect(await clusterNames()).toEqual(['predict_blue', 'predict_green']);
    }, 120_000);
  });
}

scenario({ name: 'ADS state-of-the-world', bootstrap: 'bootstrap-ads.yaml' });
scenario({ name: 'ADS delta', bootstrap: 'bootstrap-ads-delta.yaml' });
scenario({ name: 'per-type services', bootstrap: 'bootstrap-per-type.yaml' });
