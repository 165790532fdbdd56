// sluice in this process (temp SQLite state, free ports) plus a real Envoy bootstrapped with its
// address: what every real-Envoy test needs. Offers admin calls and "wait until the Envoy has
// applied revision N". Starts no model servers; tests bring their own.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { DEFAULT_CONFIG, type SluiceConfig } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { startEnvoy, type EnvoyProcess } from './envoy-process.js';
import { freePort } from './ports.js';

export interface SluiceStack {
  /** The running sluice (a new one after `restart`). */
  readonly sluice: RunningSluice;
  envoy: EnvoyProcess;
  config: SluiceConfig;
  /** http://127.0.0.1:<listener port> */
  listenerUrl: string;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** Stops sluice, waits `downMs`, starts it again on the same state file and ports. */
  restart(downMs: number): Promise<void>;
  /** Resolves with the proxy once the Envoy reports having applied `revision`. */
  waitApplied(revision: number, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

export async function startStack(options: {
  nodeId: string;
  nodeCluster?: string;
  bootstrapFile?: string;
  /** Settings other than the ports and the state file, e.g. a higher `adminRateLimit`. */
  config?: Partial<SluiceConfig>;
}): Promise<SluiceStack> {
  const stateDir = await mkdtemp(join(tmpdir(), 'sluice-stack-'));
  const listenerPort = await freePort();
  const config: SluiceConfig = {
    ...DEFAULT_CONFIG,
    xdsHost: '127.0.0.1',
    xdsPort: await freePort(),
    adminPort: 0,
    statePath: join(stateDir, 'sluice.db'),
    listenerPort,
    logLevel: 'warn',
    ...options.config,
  };
  let sluice = await startSluice(config, pino({ level: 'warn' }));
  const envoy = await startEnvoy({
    xdsPort: sluice.xdsPort,
    nodeId: options.nodeId,
    ...(options.nodeCluster ? { nodeCluster: options.nodeCluster } : {}),
    ...(options.bootstrapFile ? { bootstrapFile: options.bootstrapFile } : {}),
  });
  await envoy.waitLive(20_000);

  const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${sluice.adminUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  return {
    get sluice() {
      return sluice;
    },
    envoy,
    config,
    listenerUrl: `http://127.0.0.1:${listenerPort}`,
    admin,
    async restart(downMs) {
      await sluice.stop();
      await sleep(downMs);
      sluice = await startSluice(config, pino({ level: 'warn' }));
    },
    async waitApplied(revision, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        const { json } = await admin('GET', '/v1/proxies');
        last = json;
        const proxy = json.proxies.find((p: any) => p.node.id === options.nodeId);
        if (proxy && proxy.appliedRevision !== null && proxy.appliedRevision >= revision) return proxy;
        await sleep(20);
      }
      throw new Error(`Envoy did not apply revision ${revision} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    },
    async stop() {
      await envoy.stop();
      await sluice.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
