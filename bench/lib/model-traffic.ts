// Open-loop traffic to the demo's model servers through Envoy, shared by the data-plane benchmarks:
// the demo's service behind a real Envoy (model servers in their own processes, a spawned sluice),
// and one POST /predict whose latency counts from the time it was scheduled (no coordinated
// omission). Loopback only.

import { spawn, type ChildProcess } from 'node:child_process';
import { Agent as HttpAgent, request, type Agent } from 'node:http';
import { join } from 'node:path';
import { demoService } from './admin-client.js';
import { startBenchEnvoy, type EnvoyProcess } from './envoy.js';
import type { XdsMode } from './sim-envoy.js';
import { freePort, spawnSluice, type ServerHandle } from './sluice-process.js';
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


/** The demo's service behind a real Envoy: blue and green model processes, a spawned sluice, the Envoy in sync. */
export interface DataPlane {
  sluice: ServerHandle;
  /** The demo service body with these model servers' ports. */
  service: Record<string, unknown>;
  agent: Agent;
  close(): Promise<void>;
}

export async function startDataPlane(mode: XdsMode, nodeId: string): Promise<DataPlane> {
  const [bluePort, greenPort] = [await freePort(), await freePort()];
  const models = [await startModel('blue', bluePort), await startModel('green', greenPort)];
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  let sluice: ServerHandle | undefined;
  let envoy: EnvoyProcess | undefined;
  const close = async (): Promise<void> => {
    agent.destroy();
    await envoy?.stop();
    await sluice?.stop({ removeState: true });
    for (const model of models) model.kill('SIGTERM');
  };
  try {
    sluice = await spawnSluice();
    const service = demoService({ blue: bluePort, green: greenPort });
    const first = await sluice.admin.putService('predict', service);
    envoy = await startBenchEnvoy(mode, sluice.xdsPort, nodeId);
    await sluice.admin.waitComplete(first, 1, 20_000);
    return { sluice, service, agent, close };
  } catch (error) {
    await close();
    throw error;
  }
}
