// Rollouts from a terminal, through real processes: `sluice serve` (bin/sluice.js), a real Envoy,
// the blue and green model servers, and the CLI as its own process — `rollout start -f`, then
// `rollout watch` (not a terminal: one JSON event per line) that sees the Envoy apply the first
// step and the approval gate, `rollout approve` from a second terminal, and the watch ending with
// exit 0; `rollout status` shows the proxies. Every wait is for a state, bounded.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
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
