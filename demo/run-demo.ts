// The seed scenario in one command: blue (:5001) and green (:5002) model servers and their gRPC
// twins (:5011, :5012), sluice (xDS 127.0.0.1:18000, admin 127.0.0.1:9000) and a real Envoy on :8080
// bootstrapped only with sluice's address; applies demo/service.json and demo/grpc-service.json
// through the admin API like a user would, prints what to
// try, narrates from the admin API's event stream every change, rollout decision, proxy connect
// and NACK as one line (narrator.ts), and stops everything on Ctrl-C. Owns only what it starts.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { DEFAULT_CONFIG, demoDefaults, type SluiceConfig } from '../src/config/config.js';
import { startSluice, type RunningSluice } from '../src/main.js';
import { DEMO_GRPC_PORTS, DEMO_MODELS } from './demo-models.js';
import { infer, inferenceClient } from './grpc-inference-client.js';
import { startGrpcModelServer, type GrpcModelServer } from './grpc-model-server.js';
import { startModelServer, type ModelServer } from './model-server.js';
import { narrate } from './narrator.js';
import { repoRoot } from './repo-root.js';

const ENVOY_ADMIN = 'http://127.0.0.1:9901';

function envoyBinary(root: string): string {
  const path = process.env['ENVOY_BIN'] || join(root, '.envoy/bin/envoy');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`no Envoy binary at ${path}: run \`bash scripts/install-envoy.sh\` or set ENVOY_BIN`);
  }
  return path;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

const TRY_IT = `
sluice demo is running:
  blue model   http://127.0.0.1:5001/predict
  green model  http://127.0.0.1:5002/predict
  sluice       xDS 127.0.0.1:18000, admin http://127.0.0.1:9000
  Envoy        http://127.0.0.1:8080/predict (admin http://127.0.0.1:9901)
  gRPC models  blue 127.0.0.1:5011, green 127.0.0.1:5012 (Open Inference Protocol ModelInfer),
               service predict-grpc through Envoy's 127.0.0.1:8080 (h2c)

Try it (every response names the version that served it in x-sluice-version; a pin naming no version gets a 400):
  curl -si -X POST localhost:8080/predict -d '{"features":[1,2,3]}'
  curl -si -X POST localhost:8080/predict -H 'x-sluice-version: green' -d '{"features":[1,2,3]}'   # test green through Envoy
  curl -s  -X PUT  localhost:9000/v1/services/predict/weights -d '{"blue":90,"green":10}'
  curl -s  -X PUT  localhost:9000/v1/services/predict/weights -d '{"blue":50,"green":50}'
  curl -s  -X POST localhost:9000/v1/services/predict/rollback
  curl -s  -X POST localhost:9000/v1/services/predict/promote -d '{"version":"green"}'
  curl -s  localhost:9000/v1/proxies
  curl -s  localhost:9000/v1/services/predict
  npm run --silent demo:grpc-client -- --count 3                 # gRPC ModelInfer through Envoy
  npm run --silent demo:grpc-client -- --pin green               # the pin header as gRPC metadata
  curl -s  -X PUT  localhost:9000/v1/services/predict-grpc/weights -d '{"blue":50,"green":50}'

What happens is told below as it happens: changes with who made them, rollout decisions,
proxies connecting and leaving, and NACKs with Envoy's message.

Press Ctrl-C to stop everything.
`;

/** `12:03:04 weights predict: …` on stdout. */
function narration(line: string): void {
  process.stdout.write(`${new Date().toTimeString().slice(0, 8)} ${line}\n`);
}

export async function runDemo(config: SluiceConfig = demoDefaults(DEFAULT_CONFIG)): Promise<void> {
  const root = repoRoot();
  const binary = envoyBinary(root);
  const logger = pino({ level: 'warn' });
  const models: ModelServer[] = [];
  const grpcModels: GrpcModelServer[] = [];
  let sluice: RunningSluice | undefined;
  let envoy: ChildProcess | undefined;
  let stopNarrating: (() => void) | undefined;

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    stopNarrating?.();
    process.stdout.write('\nstopping Envoy, sluice and the model servers…\n');
    envoy?.kill('SIGTERM');
    await sluice?.stop();
    await Promise.all([...models, ...grpcModels].map((m) => m.close()));
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));

  try {
    for (const [version, { port, model }] of Object.entries(DEMO_MODELS)) {
      models.push(await startModelServer({ version, port, model }));
      grpcModels.push(await startGrpcModelServer({ version, port: DEMO_GRPC_PORTS[version]!, model }));
    }
    sluice = await startSluice(config, logger);
    const service = readFileSync(join(root, 'demo/service.json'), 'utf8');
    const put = await fetch(`${sluice.adminUrl}/v1/services/predict`, { method: 'PUT', body: service, headers: { 'content-type': 'application/json' } });
    if (!put.ok) throw new Error(`applying demo/service.json failed: ${put.status} ${await put.text()}`);
    const grpcService = readFileSync(join(root, 'demo/grpc-service.json'), 'utf8');
    const putGrpc = await fetch(`${sluice.adminUrl}/v1/services/predict-grpc`, { method: 'PUT', body: grpcService, headers: { 'content-type': 'application/json' } });
    if (!putGrpc.ok) throw new Error(`applying demo/grpc-service.json failed: ${putGrpc.status} ${await putGrpc.text()}`);

    envoy = spawn(binary, ['-c', join(root, 'envoy/bootstrap-ads.yaml'), '--disable-hot-restart', '-l', 'warning'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    envoy.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`Envoy exited (${signal ?? code}); stopping the demo\n`);
      void stop().then(() => process.exit(1));
    });
    await waitFor('Envoy to be LIVE', async () => (await fetch(`${ENVOY_ADMIN}/ready`)).ok, 30_000);
    await waitFor(
      'Envoy to serve /predict',
      async () => (await fetch('http://127.0.0.1:8080/predict', { method: 'POST', body: '{"features":[1,2,3]}' })).ok,
      15_000,
    );
    const grpcClient = inferenceClient('127.0.0.1:8080');
    await waitFor('Envoy to serve gRPC ModelInfer', async () => Boolean(await infer(grpcClient, [1, 2, 3])), 15_000).finally(() => grpcClient.close());
    // Following the events before saying "running": a change made right after it is told. The
    // lines that come first (the proxies connected now) are printed below the text.
    const held: string[] = [];
    let printing = false;
    const write = (line: string): void => (printing ? narration(line) : void held.push(line));
    stopNarrating = await narrate(sluice.adminUrl, write, config.adminToken === undefined ? {} : { token: config.adminToken });
    process.stdout.write(TRY_IT);
    printing = true;
    for (const line of held) narration(line);
  } catch (error) {
    await stop();
    throw error;
  }
}
