// A real Envoy serving blue through sluice A (its own SQLite file) meets sluice B started on a new,
// empty state file at the same xDS port (a lost state file, a replica pointed at the wrong one):
// Envoy reconnects to B and keeps serving blue with no failed request, B's /readyz says why it is
// not ready and /v1/proxies warns about the Envoy; once a service is put into B, Envoy gets it.
// Over ADS state-of-the-world, ADS delta and the per-type services. Starts its own model servers.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { DEFAULT_CONFIG, type SluiceConfig } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { REPO_ROOT } from '../support/envoy-binary.js';
import { startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { blueGreenService } from '../support/services.js';
import { predictOnce, sendRequests, type Tally } from './traffic.js';

const NODE_ID = 'empty-state-envoy';

async function admin(sluice: RunningSluice, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function proxyOf(sluice: RunningSluice): Promise<any> {
  const { json } = await admin(sluice, 'GET', '/v1/proxies');
  return json.proxies.find((p: any) => p.node.id === NODE_ID);
}

function scenario(name: string, bootstrap: string): void {
  describe(`an empty state does not wipe a connected Envoy (${name})`, () => {
    let blue: ModelServer;
    let green: ModelServer;
    let dir: string;
    let envoy: EnvoyProcess;
    let sluiceA: RunningSluice | undefined;
    let sluiceB: RunningSluice | undefined;
    let configA: SluiceConfig;
    let predictUrl: string;

    beforeAll(async () => {
      blue = await startModelServer({ version: 'blue', port: 0, model: DEMO_MODELS['blue']!.model });
      green = await startModelServer({ version: 'green', port: 0, model: DEMO_MODELS['green']!.model });
      dir = await mkdtemp(join(tmpdir(), 'sluice-empty-'));
      const listenerPort = await freePort();
      configA = {
        ...DEFAULT_CONFIG,
        xdsHost: '127.0.0.1',
        xdsPort: await freePort(),
        adminPort: 0,
        statePath: join(dir, 'a.db'),
        listenerPort,
        logLevel: 'warn',
      };
      sluiceA = await startSluice(configA, pino({ level: 'silent' }));
      envoy = await startEnvoy({ xdsPort: configA.xdsPort, nodeId: NODE_ID, bootstrapFile: join(REPO_ROOT, 'envoy', bootstrap) });
      await envoy.waitLive(20_000);
      predictUrl = `http://127.0.0.1:${listenerPort}/predict`;
    });

    afterAll(async () => {
      await envoy?.stop();
      await sluiceA?.stop();
      await sluiceB?.stop();
      await blue?.close();
      await green?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('keeps serving blue from a sluice on an empty state file, which reports it, until a service is put into it', async () => {
      const put = await admin(sluiceA!, 'PUT', '/v1/services/predict', blueGreenService(blue, green));
      expect(put.status).toBe(200);
      await expect.poll(async () => (await proxyOf(sluiceA!))?.appliedRevision, { timeout: 15_000 }).toBe(put.json.revision);
      await expect.poll(async () => (await predictOnce(predictUrl).catch(() => ({ status: 0 }))).status, { timeout: 10_000 }).toBe(200);

      let running = true;
      const tallies: Tally[] = [];
      const background = (async () => {
        while (running) tallies.push(await sendRequests(predictUrl, 20, 4));
      })();
      await expect.poll(() => tallies.length, { timeout: 10_000 }).toBeGreaterThan(0);

      await sluiceA!.stop();
      sluiceA = undefined;
      sluiceB = await startSluice({ ...configA, statePath: join(dir, 'b.db') }, pino({ level: 'silent' }));
      // Envoy reconnected to B and B withholds its clusters and routes (the default listener is the
      // same in both states: Envoy's copy is current and nothing is sent for it either).
      await expect
        .poll(
          async () => {
            const warning = (await proxyOf(sluiceB!))?.warnings?.find((w: any) => w.code === 'empty-state-withheld');
            return /clusters/.test(warning?.message ?? '') && /routes/.test(warning?.message ?? '');
          },
          { timeout: 30_000 },
        )
        .toBe(true);
      // A bounded window while B runs with Envoy connected: a fixed number of requests more.
      const window = await sendRequests(predictUrl, 200, 8);
      running = false;
      await background;
      const all = [...tallies, window];
      expect(all.flatMap((t) => t.failures)).toEqual([]);
      expect(window.byVersion).toEqual({ blue: 200 });
      expect(all.reduce((sum, t) => sum + t.total, 0)).toBeGreaterThan(200);

      const ready = await admin(sluiceB!, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.error.code).toBe('SLUICE_NOT_READY');
      expect(ready.json.error.message).toMatch(/empty state .* while proxies with configuration are connected \(empty-state-envoy\)/);
      const listeners = await envoy.configDump('dynamic_listeners');
      expect(JSON.stringify(listeners)).toContain('"default"');

      // A service in B: Envoy gets it (all to green this time) and B is ready.
      const putB = await admin(sluiceB!, 'PUT', '/v1/services/predict', { ...blueGreenService(blue, green), weights: { blue: 0, green: 100 } });
      expect(putB.status).toBe(200);
      await expect.poll(async () => (await proxyOf(sluiceB!))?.appliedRevision, { timeout: 15_000 }).toBe(putB.json.revision);
      const after = await sendRequests(predictUrl, 50, 8);
      expect(after.failures).toEqual([]);
      expect(after.byVersion).toEqual({ green: 50 });
      expect((await admin(sluiceB!, 'GET', '/readyz')).status).toBe(200);
      expect((await proxyOf(sluiceB!)).warnings ?? []).not.toContainEqual(expect.objectContaining({ code: 'empty-state-withheld' }));
    }, 90_000);
  });
}

scenario('ADS state-of-the-world', 'bootstrap-ads.yaml');
scenario('ADS delta', 'bootstrap-ads-delta.yaml');
scenario('per-type services', 'bootstrap-per-type.yaml');
