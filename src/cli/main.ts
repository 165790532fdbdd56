// The `sluice` command: `serve` runs the control plane, `demo` runs the seed scenario. Parses
// the verb and hands over; the work lives in main.ts and demo/.

import { ConfigError, SETTINGS, loadConfig } from '../config/config.js';
import { startSluice } from '../main.js';

const USAGE = `usage: sluice <command> [options]

commands:
  serve   run the control plane (xDS gRPC and the admin API)
  demo    run the blue/green demo: two model servers, sluice and a real Envoy on :8080

options (serve and demo; each also read from its environment variable):
${SETTINGS.map((s) => `  --${s.flag.padEnd(15)} ${s.env.padEnd(22)} ${s.help}`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  let config;
  try {
    config = loadConfig(rest, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sluice: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command === 'serve') {
    const sluice = await startSluice(config);
    const shutdown = (): void => void sluice.stop().then(() => process.exit(0));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    return -1;
  }
  if (command === 'demo') {
    const { runDemo } = await import('../../demo/run-demo.js');
    await runDemo(config);
    return -1;
  }
  process.stderr.write(`sluice: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`sluice: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
