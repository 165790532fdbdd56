// Rollouts from a terminal, through real processes: `sluice serve` (bin/sluice.js), a real Envoy,
// the blue and green model servers, and the CLI as its own process — `rollout start -f`, then
// `rollout watch` (not a terminal: one JSON event per line) that sees the Envoy apply the first
// step and the approval gate, `rollout approve` from a second terminal, and the watch ending with
// exit 0; `rollout status` shows the proxies. During a second rollout: `rollout status` lists it, `apply`
// is refused, `apply --dry-run --force` previews the override and `apply --force` aborts it. Every
// wait is for a state, bounded.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { blueGreenService } from '../support/services.js';
import { runSluice, startSluiceCommand } from '../support/sluice-process.js';

let stack: ProcessStack;

beforeAll(async () => {
  stack = await startProcessStack('rollout-cli-envoy');
});

afterAll(async () => {
  await stack?.stop();
});

it('rollout start; rollout watch sees the Envoy apply the step and the gate; approve from a second terminal; watch exits 0', async () => {
  const file = join(stack.dir, 'rollout.yaml');
  writeFileSync(
    file,
    ['candidate: green', 'steps:', '  - {weight: 50, hold: 1s}', '  - {approve: true}', '  - {weight: 100, hold: 1s}', 'analysis: {interval: 1s, metrics: []}', ''].join('\n'),
  );
  const server = ['--server', stack.sluice.adminUrl];
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

it('during a rollout: rollout status lists it; apply is refused, apply --dry-run --force previews the override and changes nothing, apply --force aborts it', async () => {
  const server = ['--server', stack.sluice.adminUrl];
  const gate = join(stack.dir, 'gate.yaml');
  writeFileSync(gate, ['candidate: blue', 'steps:', '  - {weight: 10, hold: 1s}', '  - {approve: true}', '  - {weight: 100}', ''].join('\n'));
  expect((await runSluice(['rollout', 'start', 'predict', '-f', gate, ...server])).code).toBe(0);
  await vi.waitFor(async () => expect((await stack.http('GET', '/v1/services/predict/rollout')).json.phase).toBe('awaiting-approval'), { timeout: 20_000, interval: 50 });

  const list = await runSluice(['rollout', 'status', ...server]);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/^SERVICE +CANDIDATE +STABLE +STEP +PHASE +WEIGHTS\npredict +blue +green +2\/3 +awaiting approval/);

  // A body without a name, named on the command line.
  const file = join(stack.dir, 'weights.json');
  writeFileSync(file, JSON.stringify(blueGreenService(stack.blue, stack.green, { weights: { blue: 30, green: 70 }, stable: 'green' })));
  const revision = (await stack.http('GET', '/v1/services/predict')).json.revision;

  const refused = await runSluice(['apply', '-f', file, '--name', 'predict', ...server]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('SLUICE_ROLLOUT_IN_PROGRESS');
  const preview = await runSluice(['apply', '-f', file, '--name', 'predict', '--dry-run', '--force', ...server]);
  expect(preview.stderr).toBe('');
  expect(preview.code).toBe(0);
  expect(preview.stdout).toContain('clusters["predict_green"].weight: 9000 → 7000');
  expect((await stack.http('GET', '/v1/services/predict')).json.revision).toBe(revision);

  const forced = await runSluice(['apply', '-f', file, '--name', 'predict', '--force', ...server]);
  expect(forced.stderr).toBe('');
  expect(forced.code).toBe(0);
  expect(forced.stdout).toMatch(/^service predict: applied, revision \d+; aborted the rollout of blue/);
  expect((await stack.http('GET', '/v1/services/predict/rollout')).json.phase).toBe('aborted');
});
