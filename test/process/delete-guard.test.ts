// The delete guard end to end through real processes: `sluice serve` (bin/sluice.js), a real Envoy
// reporting load over LRS, two model servers, requests through Envoy, and the CLI run as its own
// process — `sluice delete` refused (exit 1) naming the traffic, `--force` deleting, and Envoy then
// answering 404. Every wait is for a state, bounded; nothing sleeps.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { predictOnce, sendRequests } from '../e2e/traffic.js';
import { startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { blueGreenService } from '../support/services.js';
import { runSluice, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';

const NODE_ID = 'delete-guard-envoy';

let dir: string;
let blue: ModelServer;
let green: ModelServer;
let sluice: SluiceProcess;
let envoy: EnvoyProcess | undefined;
let predictUrl: string;

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

/** Waits (bounded) until the Envoy reports having applied `revision`. */
async function waitApplied(revision: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const proxy = (await http('GET', '/v1/proxies')).json.proxies.find((p: any) => p.node.id === NODE_ID);
      expect(proxy?.appliedRevision ?? -1, JSON.stringify(proxy?.resources)).toBeGreaterThanOrEqual(revision);
    },
    { timeout: 20_000, interval: 50 },
  );
}

/** Requests per version of predict that Envoys reported to sluice, from its /metrics. */
async function reportedRequests(): Promise<Record<string, number>> {
  const text = await (await fetch(`${sluice.adminUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^sluice_version_requests_total\{service="predict",version="(\w+)"\} (\d+)$/gm)) {
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-delete-guard-'));
  blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model });
  const listenerPort = await freePort();
  predictUrl = `http://127.0.0.1:${listenerPort}/predict`;
  sluice = await startSluiceProcess({
    args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--listener-port', String(listenerPort)],
    cwd: dir,
  });
  envoy = await startEnvoy({ xdsPort: sluice.xdsPort, nodeId: NODE_ID });
  await envoy.waitLive(20_000);
  const put = await http('PUT', '/v1/services/predict', blueGreenService(blue, green));
  expect(put.status).toBe(200);
  await waitApplied(put.json.revision);
});

afterAll(async () => {
  await envoy?.stop();
  await sluice?.stop();
  await blue?.close();
  await green?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('sluice delete is refused (exit 1) while Envoy serves the service, names the traffic; --force deletes it and Envoy answers 404', async () => {
  // Traffic to both versions (green pinned) until Envoy's load reports have reached sluice for each.
  await vi.waitFor(
    async () => {
      expect((await sendRequests(predictUrl, 8, 4)).byVersion).toEqual({ blue: 8 });
      expect((await sendRequests(predictUrl, 2, 2, { 'x-sluice-version': 'green' })).byVersion).toEqual({ green: 2 });
      const reported = await reportedRequests();
      expect(reported['blue']).toBeGreaterThan(0);
      expect(reported['green']).toBeGreaterThan(0);
    },
    { timeout: 30_000, interval: 500 },
  );
  const revision = (await http('GET', '/v1/services/predict')).json.revision;

  const refused = await runSluice(['delete', 'predict', '--server', sluice.adminUrl]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(
    /^sluice: SLUICE_DELETE_UNCONFIRMED: Service "predict" served [\d,]+ requests in the last 5 minutes \(blue [\d,]+, green [\d,]+\) on 1 proxy; deleting it makes those requests fail \(404\)\. .* With sluice: repeat with --force\.\n$/,
  );
  // Nothing changed: same revision, and Envoy still serves it.
  expect((await http('GET', '/v1/services/predict')).json.revision).toBe(revision);
  expect(await predictOnce(predictUrl)).toMatchObject({ status: 200, served: 'blue' });

  const forced = await runSluice(['delete', 'predict', '--force', '--server', sluice.adminUrl]);
  expect(forced.stderr).toBe('');
  expect(forced.code).toBe(0);
  expect(forced.stdout).toMatch(
    new RegExp(`^predict: it served [\\d,]+ requests in the last 5 minutes \\(blue [\\d,]+, green [\\d,]+\\) on 1 proxy; those requests now get 404\\npredict: deleted, revision ${revision + 1}\\n$`),
  );
  expect((await http('GET', '/v1/services/predict')).status).toBe(404);

  // With its last EDS cluster gone Envoy asks for no endpoints any more; it still counts as having
  // applied the revision (it holds exactly the endpoints it asks for: none).
  await waitApplied(revision + 1);
  expect((await predictOnce(predictUrl)).status).toBe(404);
  expect((await predictOnce(predictUrl, { 'x-sluice-version': 'green' })).status).toBe(404);
});
