// Rollouts from a terminal, through real processes: `sluice serve` (bin/sluice.js), a real Envoy,
// the blue and green model servers, and the CLI as its own process — `rollout start -f`, then
// `rollout watch` (not a terminal: one JSON event per line) that sees the Envoy apply the first
// step and the approval gate, `rollout approve` from a second terminal, and the watch ending with
// exit 0; `rollout status` shows the proxies. Every wait is for a state, bounded.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { startEnvoy, type EnvoyProcess } from '../support/envoy-process.js';
import { freePort } from '../support/ports.js';
import { blueGreenService } from '../support/services.js';
import { runSluice, startSluiceCommand, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';

const NODE_ID = 'rollout-cli-envoy';

let dir: string;
let blue: ModelServer;
let green: ModelServer;
let sluice: SluiceProcess;
let envoy: EnvoyProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-rollout-cli-'));
  blue = await startModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model });
  green = await startModelServer({ version: 'green', model: DEMO_MODELS['green']!.model });
  sluice = await startSluiceProcess({
    args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--listener-port', String(await freePort())],
    cwd: dir,
  });
  envoy = await startEnvoy({ xdsPort: sluice.xdsPort, nodeId: NODE_ID });
  await envoy.waitLive(20_000);
  const put = await fetch(`${sluice.adminUrl}/v1/services/predict`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(blueGreenService(blue, green)),
  });
  expect(put.status).toBe(200);
  const { revision } = (await put.json()) as { revision: number };
  await vi.waitFor(
    async () => {
      const report = (await (await fetch(`${sluice.adminUrl}/v1/revisions/${revision}`)).json()) as { complete: boolean; proxies: unknown[] };
      expect(report.proxies).toHaveLength(1);
      expect(report.complete).toBe(true);
    },
    { timeout: 20_000, interval: 50 },
  );
});

afterAll(async () => {
  await envoy?.stop();
  await sluice?.stop();
  await blue?.close();
  await green?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('rollout start; rollout watch sees the Envoy apply the step and the gate; approve from a second terminal; watch exits 0', async () => {
  const file = join(dir, 'rollout.yaml');
  writeFileSync(
    file,
    ['candidate: green', 'steps:', '  - {weight: 50, hold: 1s}', '  - {approve: true}', '  - {weight: 100, hold: 1s}', 'analysis: {interval: 1s, metrics: []}', ''].join('\n'),
  );
  const server = ['--server', sluice.adminUrl];
  const started = await runSluice(['rollout', 'start', 'predict', '-f', file, ...server]);
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);

  const watch = startSluiceCommand(['rollout', 'watch', 'predict', '--timeout', '60s', ...server], { readyTimeoutMs: 70_000 });
  // The gate is reached only after the Envoy applied the first step and its hold passed.
  await watch.line((line) => JSON.parse(line).event === 'awaiting-approval');
  const approved = await runSluice(['rollout', 'approve', 'predict', ...server]);
  expect(approved.code).toBe(0);

  const watched = await watch.exited;
  expect(watched.stderr).toBe('');
  expect(watched.code).toBe(0);
  const events = watched.stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(events.at(-1)).toEqual({ type: 'end', service: 'predict', phase: 'succeeded', exit: 0 });
  const firstStep = events.find((e) => e.type === 'decision' && e.event === 'weights-set' && e.step === 0);
  expect(events).toContainEqual(expect.objectContaining({ type: 'proxies', revision: firstStep.revision, applied: 1, total: 1, pending: [] }));
  expect(events.filter((e) => e.type === 'decision').map((e) => e.event)).toEqual(expect.arrayContaining(['awaiting-approval', 'approved', 'promoted']));

  const status = await runSluice(['rollout', 'status', 'predict', ...server]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('— succeeded');
  expect(status.stdout).toMatch(/proxies: {2}\d of 1 proxies applied revision \d+/);
});
