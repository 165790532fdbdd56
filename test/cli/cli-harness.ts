// Test harness for the operator CLI: sluice started in this process (temp SQLite file, free
// ports, no Envoy) and `runCli` called with captured stdout/stderr, pointed at it through
// SLUICE_SERVER. Also writes the files `apply` and `diff` read.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { runCli } from '../../src/cli/run-cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with `env` (no TTY, so no colour). */
export async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

export interface CliHarness {
  sluice: RunningSluice;
  dir: string;
  /** The CLI pointed at this sluice. */
  run(...argv: string[]): Promise<CliResult>;
  /** Writes `name` into the temp dir and returns its path. */
  file(name: string, content: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startCliHarness(): Promise<CliHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  const sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: join(dir, 'sluice.db'), logLevel: 'silent' },
    pino({ level: 'silent' }),
  );
  return {
    sluice,
    dir,
    run: (...argv) => cli(argv, { SLUICE_SERVER: sluice.adminUrl }),
    async file(name, content) {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
    async stop() {
      await sluice.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The demo's service, with its name, as `apply` takes it. */
export function predictService(weights: Record<string, number> = { blue: 100, green: 0 }): Record<string, unknown> {
  return {
    name: 'predict',
    listener: 'default',
    match: { prefix: '/predict' },
    versions: [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
    ],
    weights,
    stable: 'blue',
  };
}
