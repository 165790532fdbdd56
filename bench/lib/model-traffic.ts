// Open-loop traffic to the demo's model servers through Envoy, shared by the data-plane benchmarks:
// a model server in its own process (the demo's), and one POST /predict whose latency counts from
// the time it was scheduled (no coordinated omission). Loopback only.

import { spawn, type ChildProcess } from 'node:child_process';
import { request, type Agent } from 'node:http';
import { join } from 'node:path';
import { REPO_ROOT, now, sleep } from './util.js';

export interface Outcome {
  phase: number;
  status: number;
  latencyMs: number;
  version: string | undefined;
  error?: string;
}

const BODY = JSON.stringify({ features: [1, 2, 3] });

/** The demo's model server in its own process, once it answers its health check. */
export async function startModel(version: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'demo', 'model-server-main.js'), '--version', version, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = now() + 10_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return child;
    if (now() > deadline || child.exitCode !== null) throw new Error(`model server ${version} did not start`);
    await sleep(20);
  }
}

/** One POST /predict of the features [1, 2, 3]; `done` gets its outcome. */
export function post(agent: Agent, port: number, scheduled: number, phase: number, done: (outcome: Outcome) => void): void {
  const req = request(
    { host: '127.0.0.1', port, path: '/predict', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) } },
    (res) => {
      res.resume();
      res.on('end', () => {
        const header = res.headers['x-sluice-version'];
        done({ phase, status: res.statusCode ?? 0, latencyMs: now() - scheduled, version: Array.isArray(header) ? header[0] : header });
      });
      res.on('error', (error) => done({ phase, status: 0, latencyMs: now() - scheduled, version: undefined, error: String(error) }));
    },
  );
  req.setTimeout(10_000, () => req.destroy(new Error('timeout after 10 s')));
  req.on('error', (error) => done({ phase, status: 0, latencyMs: now() - scheduled, version: undefined, error: String(error) }));
  req.end(BODY);
}

