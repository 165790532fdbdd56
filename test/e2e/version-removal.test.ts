// Adding a version with weight (100/0 → 80/10/10 with a new canary) and dropping it again through a
// real Envoy over ADS SotW, ADS delta and the per-type services (SotW and delta), repeated while
// requests flow: no request may fail (a route naming a cluster Envoy has not warmed or has dropped
// is a 503). Starts its own model servers and Envoy; changes state only through the admin API.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { REPO_ROOT } from '../support/envoy-binary.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { sendRequests, type Tally } from './traffic.js';

const CYCLES = 8;

interface Mode {
  name: string;
  /** A file in envoy/. */
  bootstrap: string;
  /** Switch its discovery services to the incremental protocol (no such file ships in envoy/). */
  delta?: boolean;
}

/** `file` with its listener and cluster discovery on DELTA_GRPC, written into `dir`. */
async function deltaBootstrap(file: string, dir: string): Promise<string> {
  const doc = parseDocument(await readFile(file, 'utf8'));
  for (const source of ['cds_config', 'lds_config']) {
    const path = ['dynamic_resources', source, 'api_config_source', 'api_type'];
    expect(doc.getIn(path), `${file}: ${path.join('.')}`).toBe('GRPC');
    doc.setIn(path, 'DELTA_GRPC');
  }
  const out = join(dir, 'bootstrap-delta.yaml');
  await writeFile(out, doc.toString());
  return out;
}

function scenario({ name, bootstrap, delta }: Mode): void {
  const servers: Record<string, ModelServer> = {};
  let stack: SluiceStack;
  let predictUrl: string;
  let dir: string | undefined;

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
    let bootstrapFile = join(REPO_ROOT, 'envoy', bootstrap);
    if (delta) {
      dir = await mkdtemp(join(tmpdir(), 'sluice-version-'));
      bootstrapFile = await deltaBootstrap(bootstrapFile, dir);
    }
    stack = await startStack({ nodeId: 'version-envoy', nodeCluster: 'e2e', bootstrapFile });
    predictUrl = `${stack.listenerUrl}/predict`;
  });

  afterAll(async () => {
    await stack?.stop();
    for (const server of Object.values(servers)) await server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe(`adding and dropping a weighted version through a real Envoy (${name})`, () => {
    it('100/0 → 80/10/10 with a new canary → 100/0 without it, repeatedly, while requests flow: no failed request', async () => {
      await apply({ blue: 100, green: 0 });
      await expect
        .poll(async () => (await sendRequests(predictUrl, 20, 4)).failed, { timeout: 10_000 })
        .toBe(0);

      const failures: string[] = [];
      let total = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        let step = 'add';
        let running = true;
        const tallies: { step: string; tally: Tally }[] = [];
        const traffic = (async () => {
          while (running) {
            const at = step;
            tallies.push({ step: at, tally: await sendRequests(predictUrl, 40, 8) });
          }
        })();
        const servedBy = (version: string, during: string): number =>
          tallies.filter((t) => t.step === during).reduce((sum, t) => sum + (t.tally.byVersion[version] ?? 0), 0);
        try {
          // Requests are flowing before each change goes out, so some reach the canary's route the
          // moment it appears (a route naming a cluster Envoy has not warmed yet is a 503).
          await expect.poll(() => tallies.length, { timeout: 10_000 }).toBeGreaterThan(0);
          await apply({ blue: 80, green: 10, canary: 10 });
          // Applied means routes ACKed, and routes naming the canary follow its warm-up.
          expect(await clusterNames()).toContain('predict_canary');
          step = 'serve';
          // The canary serves before it is dropped, so requests are on their way to it at the change.
          await expect.poll(() => servedBy('canary', 'serve'), { timeout: 10_000 }).toBeGreaterThan(0);
          step = 'drop';
          await apply({ blue: 100, green: 0 });
          expect(await clusterNames()).toEqual(['predict_blue', 'predict_green']);
        } finally {
          running = false;
          await traffic;
        }
        failures.push(...tallies.flatMap((t) => t.tally.failures.map((f) => `cycle ${cycle}, ${t.step} step: ${f}`)));
        total += tallies.reduce((sum, t) => sum + t.tally.total, 0);
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
scenario({ name: 'per-type services, delta', bootstrap: 'bootstrap-per-type.yaml', delta: true });
