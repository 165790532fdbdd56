// `sluice rollout …` against sluice running in this process (no proxy connected, so every step
// counts as applied at once): start from a file, status and history, --wait and watch to the end
// with the exit code a pipeline reads, pause/resume/abort with reasons, abort from a second
// "terminal" ending a watch, --timeout, and the usage mistakes.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { predictService, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;

/** A rollout of two 1 s holds and no metrics: it ends on its own within a few seconds. */
const QUICK_ROLLOUT = ['candidate: green', 'steps:', '  - {weight: 50, hold: 1s}', '  - {weight: 100, hold: 1s}', 'analysis: {interval: 1s, metrics: []}', ''].join('\n');
/** One that stops at an approval gate. */
const GATED_ROLLOUT = ['candidate: green', 'steps:', '  - {weight: 20, hold: 1s}', '  - {approve: true}', '  - {weight: 100, hold: 1s}', 'analysis: {interval: 1s, metrics: []}', ''].join('\n');

async function startFrom(content: string): Promise<void> {
  const started = await h.run('rollout', 'start', 'predict', '-f', await h.file('rollout.yaml', content));
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
}

beforeEach(async () => {
  h = await startCliHarness();
  const applied = await h.run('apply', '-f', await h.file('predict.json', JSON.stringify(predictService())));
  expect(applied.code).toBe(0);
});

afterEach(async () => {
  await h.stop();
});

describe('sluice rollout', () => {
  it('start -f FILE says what started; status --wait follows it to success (exit 0); history lists every decision', async () => {
    const started = await h.run('rollout', 'start', 'predict', '-f', await h.file('rollout.yaml', QUICK_ROLLOUT));
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^predict: rollout of green started at revision \d+ \(stable blue\): ▶ 50% 1s \| 100% 1s\nfollow it with: sluice rollout watch predict\n$/);

    const waited = await h.run('rollout', 'status', 'predict', '--wait', '--timeout', '60s');
    expect(waited.stderr).toBe('');
    expect(waited.code).toBe(0);
    expect(waited.stdout).toContain('rollout predict: green (candidate) vs blue (stable) — succeeded');
    expect(waited.stdout).toContain('  steps:    50% 1s ✓ | 100% 1s ✓');
    expect(waited.stdout).toContain('  weights:  blue 0, green 100');

    const history = await h.run('rollout', 'history', 'predict');
    expect(history.code).toBe(0);
    const events = history.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(' ').slice(2, 4).join(' '));
    expect(events).toEqual(['0 started', '0 weights-set', '0 hold-started', '0 hold-passed', '1 weights-set', '1 hold-started', '1 hold-passed', '2 promoted']);
  });

  it('start inline: --candidate and --steps, no analysis, the last step without a hold', async () => {
    const started = await h.run('rollout', 'start', 'predict', '--candidate', 'green', '--steps', '30:1s,100');
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(': ▶ 30% 1s | 100%\n');
    const waited = await h.run('rollout', 'status', 'predict', '--wait', '--timeout', '60s');
    expect(waited.code).toBe(0);
    expect(waited.stdout).toContain('  weights:  blue 0, green 100');
  });

  it('status lists active rollouts beside the services and in its own table', async () => {
    await startFrom(GATED_ROLLOUT);
    const status = await h.run('status');
    expect(status.stdout).toMatch(/SERVICE +STABLE +WEIGHTS +LISTENER +PREFIX +IN SYNC +ROLLOUT\npredict +blue +blue \d+, green \d+ +default +\/predict +- +green [12]\/3 /);
    const list = await h.run('rollout', 'status');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^SERVICE +CANDIDATE +STABLE +STEP +PHASE +WEIGHTS\npredict +green +blue +[12]\/3 /);
    const json = JSON.parse((await h.run('rollout', 'status', '--json')).stdout);
    expect(json.rollouts).toHaveLength(1);
    expect(json.rollouts[0]).not.toHaveProperty('timeline');
  });

  it('pause and resume with a reason; an abort from a second terminal ends a running watch with exit 1', async () => {
    await startFrom(GATED_ROLLOUT);
    const paused = await h.run('rollout', 'pause', 'predict', '--reason', 'checking the logs');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^predict: rollout of green paused: .*checking the logs \(revision \d+\)/);
    const resumed = await h.run('rollout', 'resume', 'predict');
    expect(resumed.code).toBe(0);

    const watching = h.run('rollout', 'watch', 'predict', '--timeout', '60s');
    // The gate is reached (the watch reads the same state); then a second terminal aborts.
    const gated = await h.run('rollout', 'status', 'predict');
    expect(gated.code).toBe(0);
    const aborted = await h.run('rollout', 'abort', 'predict', '--reason', 'green looks wrong');
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toContain('aborted: ');
    expect(aborted.stdout).toContain('green looks wrong');

    const watched = await watching;
    expect(watched.code).toBe(1);
    const events = watched.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: 'rollout', service: 'predict', candidate: 'green' });
    expect(events.filter((e) => e.type === 'decision').map((e) => e.event)).toEqual(expect.arrayContaining(['started', 'paused', 'resumed', 'aborted']));
    expect(events.at(-1)).toEqual({ type: 'end', service: 'predict', phase: 'aborted', exit: 1 });
  });

  it('watch on a terminal redraws the screen in place until the rollout ends', async () => {
    await startFrom(QUICK_ROLLOUT);
    let stdout = '';
    const code = await runCli(['rollout', 'watch', 'predict', '--timeout', '60s'], {
      stdout: { write: (text: string) => (stdout += text), isTTY: true },
      stderr: { write: () => undefined },
      env: { SLUICE_SERVER: h.sluice.adminUrl, NO_COLOR: '1' },
    });
    expect(code).toBe(0);
    const screens = stdout.split('\u001b[H\u001b[2J').slice(1);
    expect(screens.length).toBeGreaterThan(1);
    expect(screens.at(-1)).toMatch(/^rollout predict: green \(candidate\) vs blue \(stable\) — succeeded\n {2}steps: {4}50% 1s ✓ \| 100% 1s ✓\n/);
    // Only a changed screen is drawn again.
    expect(new Set(screens).size).toBe(screens.length);
  });

  it('--timeout gives up with exit 2 saying where the rollout stands', async () => {
    await startFrom(GATED_ROLLOUT);
    await h.run('rollout', 'pause', 'predict');
    const waited = await h.run('rollout', 'status', 'predict', '--wait', '--timeout', '1s');
    expect(waited.code).toBe(2);
    expect(waited.stderr).toMatch(/^sluice: gave up after --timeout 1s: the rollout of green on predict is paused/);
  });

  it.each([
    [['rollout'], 'rollout needs one of: start, status, watch, pause, resume, approve, abort, history'],
    [['rollout', 'begin', 'predict'], 'rollout needs one of'],
    [['rollout', 'start', 'predict'], 'rollout start needs -f FILE, or --candidate VERSION and --steps'],
    [['rollout', 'start', 'predict', '--candidate', 'green', '--steps', '10:1m,oops'], '--steps: "oops" is not WEIGHT[:HOLD]'],
    [['rollout', 'resume', 'predict', '--reason', 'x'], 'rollout resume takes no --reason'],
    [['rollout', 'watch', 'predict', '--wait'], '--wait is for rollout status'],
    [['rollout', 'status', 'predict', '--wait', '--timeout', 'soon'], '--timeout must be a duration'],
    [['status', '--steps', '10'], 'status takes no --steps'],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const result = await h.run(...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('a refused start exits 1 with the server’s code and path', async () => {
    const result = await h.run('rollout', 'start', 'predict', '--candidate', 'purple', '--steps', '10:1m,100:1m');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SLUICE_/);
  });
});
