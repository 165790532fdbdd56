// The README's first command and the operator CLI as a newcomer uses them, all as real processes:
// `sluice demo` (blue :5001, green :5002, their gRPC twins :5011/:5012, sluice :18000/:9000, a real
// Envoy :8080), then `sluice status`, `set-weights`, `rollback`, `promote` and `diff`, and the gRPC
// client script, each observed through the traffic Envoy serves (and in the demo's narration); xDS
// on loopback, so no warning about plaintext xDS beyond it; Ctrl-C leaves none of the demo's ports open.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { infer, inferenceClient } from '../../demo/grpc-inference-client.js';
import { predictOnce } from '../e2e/traffic.js';
import { SLUICE_BIN, runSluice } from '../support/sluice-process.js';

const GRPC_CLIENT = join(dirname(SLUICE_BIN), '..', 'dist', 'demo', 'grpc-client.js');

const DEMO_PORTS = [5001, 5002, 5011, 5012, 8080, 9000, 9901, 18000];
const PREDICT = 'http://127.0.0.1:8080/predict';
let dir: string;
let demo: ChildProcess;
let demoOutput = '';

function accepts(port: number): Promise<boolean> {
  return acceptsOn('127.0.0.1', port);
}

function acceptsOn(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `sluice <argv>` as a separate process, against the demo's admin API (the CLI's default). */
function sluice(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runSluice(argv, { cwd: dir });
}

/** Sends requests until `version` serves `count` in a row (bounded): Envoy has applied the change. */
async function servedBy(version: string, count = 20, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  while (streak < count) {
    if (Date.now() > deadline) throw new Error(`${version} did not serve ${count} requests in a row within ${timeoutMs} ms`);
    const answer = await predictOnce(PREDICT);
    streak = answer.status === 200 && answer.version === version ? streak + 1 : 0;
  }
}

/** Resolves once the demo's output matches `pattern` (woken by its output, bounded); fails with the output. */
function demoSays(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  if (pattern.test(demoOutput)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(demoOutput)) return;
      clearTimeout(timer);
      demo.stdout!.off('data', check);
      resolve();
    };
    const timer = setTimeout(() => {
      demo.stdout!.off('data', check);
      reject(new Error(`the demo did not print ${pattern} within ${timeoutMs} ms:\n${demoOutput}`));
    }, timeoutMs);
    demo.stdout!.on('data', check);
  });
}

beforeAll(async () => {
  for (const port of DEMO_PORTS) {
    if (await accepts(port)) throw new Error(`port ${port} is taken: stop whatever runs the demo before this test`);
  }
  dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  demo = spawn(process.execPath, [SLUICE_BIN, 'demo'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' } });
  demo.stdout!.setEncoding('utf8').on('data', (chunk: string) => (demoOutput += chunk));
  demo.stderr!.setEncoding('utf8').on('data', (chunk: string) => (demoOutput += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not come up within 60 s:\n${demoOutput}`)), 60_000);
    const check = (): void => {
      if (!demoOutput.includes('sluice demo is running')) return;
      clearTimeout(timer);
      resolve();
    };
    demo.stdout!.on('data', check);
    demo.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${demoOutput}`)));
  });
}, 90_000);

afterAll(() => {
  if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the demo, driven by the CLI', () => {
  it('serves xDS on loopback only, so it gives no warning about plaintext xDS', async () => {
    expect(demoOutput).toMatch(/sluice demo is running/);
    expect(demoOutput).not.toMatch(/WITHOUT TLS/);
    expect(await accepts(18000)).toBe(true);
    // The port is bound to 127.0.0.1 alone: another local address of this machine is refused.
    expect(await acceptsOn('127.0.0.2', 18000)).toBe(false);
  });

  it('serves blue first, moves traffic with set-weights, rolls back and promotes', async () => {
    await servedBy('blue');
    const pinned = await predictOnce(PREDICT, { 'x-sluice-version': 'green' });
    expect(pinned).toMatchObject({ status: 200, version: 'green' });

    const status = await sluice('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/predict/);
    expect(status.stdout).toMatch(/1 of 1 proxies in sync/);

    const shift = await sluice('set-weights', 'predict', 'blue=0', 'green=100');
    expect(shift.code, shift.stderr).toBe(0);
    await servedBy('green');
    await demoSays(/^\d\d:\d\d:\d\d weights predict: blue 100 → 0, green 0 → 100 \(by admin, revision \d+\)$/m);
    // Its own Envoy, connected before the narration began, is told too.
    await demoSays(/^\d\d:\d\d:\d\d proxy sluice-demo-envoy connected \(envoy 1\.40\.\d+, node cluster sluice-demo, ADS\)$/m);

    expect((await sluice('rollback', 'predict')).code).toBe(0);
    await servedBy('blue');
    await demoSays(/^\d\d:\d\d:\d\d rollback predict: all traffic back to stable blue; blue 0 → 100, green 100 → 0 \(by admin, revision \d+\)$/m);

    // diff against a file that sends everything to green: differences (exit 1), nothing changed.
    const file = join(dir, 'green.yaml');
    writeFileSync(
      file,
      [
        'name: predict',
        'listener: default',
        'match: { prefix: /predict }',
        'versions:',
        '  - { name: blue, endpoints: [{ address: 127.0.0.1, port: 5001 }] }',
        '  - { name: green, endpoints: [{ address: 127.0.0.1, port: 5002 }] }',
        'weights: { blue: 0, green: 100 }',
        'stable: blue',
        '',
      ].join('\n'),
    );
    const diff = await sluice('diff', '-f', file);
    expect(diff.code, diff.stderr).toBe(1);
    expect(diff.stdout).toMatch(/predict_green/);
    await servedBy('blue', 5);

    expect((await sluice('promote', 'predict', 'green')).code).toBe(0);
    await servedBy('green');
    const after = await sluice('status', 'predict', '--json');
    expect(JSON.parse(after.stdout).service).toMatchObject({ stable: 'green', weights: { green: 100 } });
  }, 60_000);

  it('serves the gRPC model through the same Envoy, and set-weights moves its calls', async () => {
    const client = inferenceClient('127.0.0.1:8080');
    try {
      expect(await infer(client, [1, 2, 3])).toMatchObject({ version: 'blue', served: 'blue' });
      expect(await infer(client, [1, 2, 3], { 'x-sluice-version': 'green' })).toMatchObject({ version: 'green', served: 'green' });
      const shift = await sluice('set-weights', 'predict-grpc', 'blue=0', 'green=100');
      expect(shift.code, shift.stderr).toBe(0);
      await vi.waitFor(async () => expect((await infer(client, [1, 2, 3])).version).toBe('green'), { timeout: 10_000, interval: 50 });
      // The client script the README shows, through Envoy.
      const script = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [GRPC_CLIENT, '--count', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.once('exit', (code) => resolve({ code, stdout }));
      });
      expect(script.code).toBe(0);
      expect(script.stdout).toMatch(/^ModelInfer \[1,2,3\] → [\d.]+ from green \(x-sluice-version: green\)\n.*from green/);
    } finally {
      client.close();
    }
  }, 30_000);

  it('stops everything on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    const open: number[] = [];
    for (const port of DEMO_PORTS) if (await accepts(port)) open.push(port);
    expect(open).toEqual([]);
  }, 30_000);
});
