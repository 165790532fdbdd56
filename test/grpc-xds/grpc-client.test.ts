// Proxyless gRPC end to end: gRPC's own xDS client (@grpc/grpc-js-xds) bootstrapped only with
// sluice's address opens a channel to `xds:///predict` and calls two gRPC backends, blue and
// green, split by sluice's weights: 100/0, then 20/80, then 0/100. sluice runs in this process.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { withinBinomialTolerance } from '../e2e/traffic.js';
import { callMany, predictOnce, startBackend, type Backend } from './predictor.js';
import { blueGreenService } from '../support/services.js';

const NODE_ID = 'grpc-xds-test';
const REQUESTS_PER_STEP = 200;

let blue: Backend;
let green: Backend;
let sluice: RunningSluice;
let client: grpc.Client;
let stateDir: string;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** Waits until the gRPC client reports (by its ACKs) having applied `revision`. */
async function waitApplied(revision: number, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const { json } = await admin('GET', '/v1/proxies');
    last = json;
    const proxy = json.proxies.find((p: any) => p.node.id === NODE_ID);
    if (proxy && proxy.appliedRevision !== null && proxy.appliedRevision >= revision) return proxy;
    await sleep(20);
  }
  throw new Error(`the gRPC client did not apply revision ${revision} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  blue = await startBackend('blue');
  green = await startBackend('green');
  stateDir = await mkdtemp(join(tmpdir(), 'sluice-grpc-xds-'));
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: join(stateDir, 'sluice.db'), logLevel: 'warn' },
    pino({ level: 'warn' }),
  );
  // grpc-js-xds reads its bootstrap once per process, when the first xds: channel resolves. It
  // requires node.id and node.locality; of server_features it knows only ignore_resource_deletion,
  // which would keep a listener sluice deletes, so none is set.
  const bootstrap = {
    xds_servers: [{ server_uri: `127.0.0.1:${sluice.xdsPort}`, channel_creds: [{ type: 'insecure' }] }],
    node: { id: NODE_ID, cluster: 'grpc-xds', locality: {} },
  };
  const bootstrapPath = join(stateDir, 'xds-bootstrap.json');
  await writeFile(bootstrapPath, JSON.stringify(bootstrap));
  process.env['GRPC_XDS_BOOTSTRAP'] = bootstrapPath;
  grpcXds.register();
  client = new grpc.Client('xds:///predict', grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await sluice?.stop();
  await blue?.close();
  await green?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('a proxyless gRPC client split by sluice', () => {
  it('sends every call to blue once the service is defined', async () => {
    const put = await admin('PUT', '/v1/services/predict', blueGreenService(blue, green));
    expect(put.status).toBe(200);
    // The channel resolves (and connects to sluice) on its first call.
    await expect.poll(async () => (await predictOnce(client).catch(() => undefined))?.version, { timeout: 15_000 }).toBe('blue');
    const proxy = await waitApplied(put.json.revision);
    expect(proxy.userAgent).toMatch(/^gRPC /);
    for (const type of ['listeners', 'routes', 'clusters', 'endpoints']) {
      expect(proxy.resources[type].ackedVersion, type).toBeTruthy();
      expect(proxy.resources[type].lastNack, type).toBeUndefined();
    }
    const tally = await callMany(client, REQUESTS_PER_STEP);
    expect(tally.failures).toEqual([]);
    expect(tally.byVersion).toEqual({ blue: REQUESTS_PER_STEP });
  });

  it('the pin header (as metadata) sends a call to green whatever the weights', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-sluice-version', 'green');
    const tally = await callMany(client, 50, 8, metadata);
    expect(tally.failures).toEqual([]);
    expect(tally.byVersion).toEqual({ green: 50 });
  });

  for (const [blueShare, greenShare] of [
    [20, 80],
    [0, 100],
  ] as const) {
    it(`moves to ${blueShare}/${greenShare} without a failed call`, async () => {
      const put = await admin('PUT', '/v1/services/predict/weights', { blue: blueShare, green: greenShare });
      expect(put.status).toBe(200);
      const proxy = await waitApplied(put.json.revision);
      expect(proxy.resources.routes.lastNack).toBeUndefined();
      const tally = await callMany(client, REQUESTS_PER_STEP);
      expect(tally.failures).toEqual([]);
      const greenCount = tally.byVersion['green'] ?? 0;
      expect((tally.byVersion['blue'] ?? 0) + greenCount).toBe(REQUESTS_PER_STEP);
      expect(
        withinBinomialTolerance(greenCount, REQUESTS_PER_STEP, greenShare / 100),
        `green served ${greenCount} of ${REQUESTS_PER_STEP} at ${greenShare}%`,
      ).toBe(true);
    });
  }
});
