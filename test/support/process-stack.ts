// What the real-process tests with traffic share: the blue and green demo model servers, `sluice
// serve` as a child process (bin/sluice.js, free ports, its own working directory), a real Envoy
// bootstrapped to it, and `predict` defined and applied by that Envoy. Admin calls go over HTTP
// from outside, as a user's would.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { startEnvoy, type EnvoyProcess } from './envoy-process.js';
import { freePort } from './ports.js';
import { blueGreenService } from './services.js';
import { runSluice, startSluiceProcess, type SluiceProcess } from './sluice-process.js';

export interface ProcessStack {
  dir: string;
  blue: ModelServer;
  green: ModelServer;
  sluice: SluiceProcess;
  envoy: EnvoyProcess;
  /** http://127.0.0.1:<listener port>/predict through the Envoy. */
  predictUrl: string;
  http(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** Waits (bounded) until the Envoy reports having applied `revision`. */
  waitApplied(revision: number): Promise<void>;
  /** Writes `yamlLines` to `file` in the stack's directory and starts that rollout of predict with `sluice rollout start -f`. */
  startRollout(file: string, yamlLines: string[]): Promise<void>;
  /** Polls predict's rollout until `done` holds (bounded by `timeoutMs`), and returns it. */
  rolloutWhen(done: (rollout: any) => boolean, timeoutMs: number): Promise<any>;
  stop(): Promise<void>;
}

/** The phases a rollout ends in (or waits for a person in). */
export const SETTLED_PHASES = ['succeeded', 'rolled-back', 'aborted', 'paused'];

export async function startProcessStack(nodeId: string): Promise<ProcessStack> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${nodeId}-`));
  const blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  const green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model });
  const listenerPort = await freePort();
  const sluice = await startSluiceProcess({
    args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--listener-port', String(listenerPort)],
    cwd: dir,
  });
  const envoy = await startEnvoy({ xdsPort: sluice.xdsPort, nodeId });
  await envoy.waitLive(20_000);
  const http = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${sluice.adminUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };
  const waitApplied = async (revision: number): Promise<void> => {
    await vi.waitFor(
      async () => {
        const proxy = (await http('GET', '/v1/proxies')).json.proxies.find((p: any) => p.node.id === nodeId);
        expect(proxy?.appliedRevision ?? -1, JSON.stringify(proxy?.resources)).toBeGreaterThanOrEqual(revision);
      },
      { timeout: 20_000, interval: 50 },
    );
  };
  const put = await http('PUT', '/v1/services/predict', blueGreenService(blue, green));
  expect(put.status).toBe(200);
  await waitApplied(put.json.revision);
  return {
    dir,
    blue,
    green,
    sluice,
    envoy,
    predictUrl: `http://127.0.0.1:${listenerPort}/predict`,
    http,
    waitApplied,
    async startRollout(file, yamlLines) {
      const path = join(dir, file);
      writeFileSync(path, [...yamlLines, ''].join('\n'));
      const started = await runSluice(['rollout', 'start', 'predict', '-f', path, '--server', sluice.adminUrl]);
      expect(started.stderr).toBe('');
      expect(started.code).toBe(0);
    },
    async rolloutWhen(done, timeoutMs) {
      let rollout: any;
      await vi.waitFor(
        async () => {
          rollout = (await http('GET', '/v1/services/predict/rollout')).json;
          expect(done(rollout), JSON.stringify(rollout.timeline)).toBe(true);
        },
        { timeout: timeoutMs, interval: 50 },
      );
      return rollout;
    },
    async stop() {
      await envoy.stop();
      await sluice.stop();
      await blue.close();
      await green.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
