// The `sluice` process: `serve` runs the control plane and `demo` the seed scenario, both in the
// foreground until a signal; every other command is the operator CLI (run-cli.ts), which only
// talks to a running sluice. Parses the verb and hands over; the work lives elsewhere.

import { ConfigError, DEFAULT_CONFIG, demoDefaults, loadConfig } from '../config/config.js';
import { StartupError } from '../startup.js';
import { runCli } from './run-cli.js';
import { USAGE } from './usage.js';

/** An exit code, or -1 while serve or demo keep running. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'serve' && command !== 'demo') {
    return runCli(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  }
  let config;
  try {
    config = loadConfig(rest, process.env, command === 'demo' ? demoDefaults(DEFAULT_CONFIG) : DEFAULT_CONFIG);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sluice: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command === 'serve') {
    // Loaded here, not above: the operator commands need none of the server's modules.
    const { startSluice } = await import('../main.js');
    let sluice;
    try {
      sluice = await startSluice(config);
    } catch (error) {
      if (!(error instanceof StartupError)) throw error;
      process.stderr.write(`sluice: ${error.message}\n`);
      return 2;
    }
    const shutdown = (): void => void sluice.stop().then(() => process.exit(0));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    return -1;
  }
  const { runDemo } = await import('../../demo/run-demo.js');
  await runDemo(config);
  return -1;
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
