// Rollout notifications through the composition root: sluice (startSluice, a SQLite file) with the
// server-wide webhook setting pointing at a receiver on loopback (a node HTTP server) gets every
// phase change of a real rollout exactly once and in order, each a JSON POST with its `text` and
// fields; a restarted sluice sends none of them again. One URL's messages arrive in order, so a
// later rollout's messages fence off any duplicate of an earlier one.

import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type SluiceConfig } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { predictBody } from '../admin/harness.js';

interface Received {
  path: string;
  contentType: string | undefined;
  body: any;
}

/** A webhook receiver: records each POST; `count(n)` resolves once n have arrived. */
class Receiver {
  readonly received: Received[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private readonly server: Server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      this.received.push({ path: request.url ?? '', contentType: request.headers['content-type'], body: JSON.parse(text) });
      response.end('ok');
      this.waiters = this.waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/rollouts`;
  }

  count(n: number): Promise<void> {
    return this.received.length >= n ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let dir: string;
const receiver = new Receiver();
let config: SluiceConfig;
let sluice: RunningSluice | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-notify-wiring-'));
  const url = await receiver.listen();
  config = { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: join(dir, 'state.db'), rolloutWebhooks: [url] };
});
afterAll(async () => {
  await sluice?.stop();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${sluice!.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return response.json();
}

it('tells the default webhook every phase change once, in order, and nothing again after a restart', async () => {
  sluice = await startSluice(config, pino({ level: 'silent' }));
  await call('PUT', '/v1/services/predict', predictBody());
  // No proxy is connected, so every step counts as applied at once; the 1s hold runs on the real clock.
  await call('POST', '/v1/services/predict/rollouts', { candidate: 'green', steps: [{ weight: 50, hold: '1s' }, { approve: true }, { weight: 100 }] });
  await receiver.count(3);
  expect((await call('GET', '/v1/services/predict/rollout')).phase).toBe('awaiting-approval');
  await call('POST', '/v1/services/predict/rollout/approve');
  await receiver.count(5);

  const [started, half, gate, full, succeeded] = receiver.received.map((r) => r.body);
  expect(receiver.received.map((r) => `${r.body.kind}:${r.body.phase}`)).toEqual([
    'started:progressing',
    'step-reached:waiting-for-proxies',
    'awaiting-approval:awaiting-approval',
    'step-reached:waiting-for-proxies',
    'succeeded:succeeded',
  ]);
  for (const r of receiver.received) {
    expect(r.path).toBe('/hooks/rollouts');
    expect(r.contentType).toBe('application/json');
    expect(r.body).toMatchObject({ service: 'predict', candidate: 'green', stable: 'blue', steps: 3 });
    expect(typeof r.body.text).toBe('string');
    expect(Number.isInteger(r.body.revision)).toBe(true);
    expect(Date.parse(r.body.at)).not.toBeNaN();
  }
  expect(started.text).toBe('Rollout of predict started by admin: green replaces blue in 3 step(s).');
  expect(half).toMatchObject({ step: 0, weights: { blue: 50, green: 50 }, text: 'Rollout of predict reached step 1 of 3: blue 50%, green 50%.' });
  expect(gate).toMatchObject({ step: 1 });
  expect(full).toMatchObject({ step: 2, weights: { blue: 0, green: 100 } });
  expect(succeeded).toMatchObject({ step: 3, weights: { green: 100 }, text: 'Rollout of predict succeeded: green is stable with 100% of traffic.' });
  const timeline = (await call('GET', '/v1/services/predict/rollout')).timeline;
  expect(timeline.find((d: { event: string }) => d.event === 'weights-set').revision).toBe(half.revision);

  // Restart on the same state file: nothing is sent again. A second rollout (blue back) fences
  // the first one's messages: the receiver gets it right after them.
  await sluice.stop();
  sluice = await startSluice(config, pino({ level: 'silent' }));
  // A commit that leaves the ended rollout as it is: nothing to tell.
  await call('PUT', '/v1/listeners/edge', { port: 18081 });
  await call('POST', '/v1/services/predict/rollouts', { candidate: 'blue', steps: [{ weight: 10, hold: '1h' }, { weight: 100 }] });
  await receiver.count(7);
  await call('POST', '/v1/services/predict/rollout/abort', { reason: 'enough' });
  await receiver.count(8);
  expect(receiver.received.slice(5).map((r) => `${r.body.kind}:${r.body.candidate}`)).toEqual(['started:blue', 'step-reached:blue', 'aborted:blue']);
  expect(receiver.received.at(-1)!.body.text).toBe('Rollout of predict aborted at step 1 of 2, all traffic to green: enough.');
});
