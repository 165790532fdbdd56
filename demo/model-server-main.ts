// CLI for one demo model server: `node dist/demo/model-server-main.js --version blue --port 5001`.
// Owns argument parsing, the start-up log line and clean shutdown on SIGINT/SIGTERM; serving
// itself is model-server.ts and the per-version models are demo-models.ts.

import { parseArgs } from 'node:util';
import { DEMO_MODELS } from './demo-models.js';
import { MODEL_NAME, startModelServer } from './model-server.js';

const USAGE = 'usage: model-server-main --version <blue|green> [--port N] [--host ADDR]';

function fail(message: string): never {
  console.error(`model-server: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { version?: string; port?: string; host?: string };
  try {
    ({ values } = parseArgs({
      options: { version: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const version = values.version ?? fail('--version is required');
  const demo = DEMO_MODELS[version] ?? fail(`unknown version "${version}" (known: ${Object.keys(DEMO_MODELS).join(', ')})`);
  const port = values.port === undefined ? demo.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port "${values.port}"`);

  const server = await startModelServer({ version, port, host: values.host ?? '127.0.0.1', model: demo.model });
  console.log(`model-server ${version} (${MODEL_NAME}) listening on ${server.url}`);

  const shutdown = (signal: string): void => {
    server.close().then(
      () => console.log(`model-server ${version} stopped (${signal}) after ${server.stats.requests} predict requests`),
      (err: unknown) => {
        console.error(`model-server ${version}: error while stopping: ${String(err)}`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`model-server: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
