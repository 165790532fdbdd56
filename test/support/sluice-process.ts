// Starts sluice the way users do: `node bin/sluice.js serve …` as a child process with the flags,
// environment and working directory a test gives it (and no SLUICE_* variable of the test's own
// environment), reads its JSON log, and stops it with a signal. Observes from outside only.

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SLUICE_BIN = join(ROOT, 'bin', 'sluice.js');

export interface ProcessOptions {
  args?: string[];
  /** The child's SLUICE_* (and other) variables; PATH and HOME are passed through. */
  env?: Record<string, string>;
  cwd?: string;
  /** How long to wait for the "sluice is serving" line (logged at info: keep --log-level at info or below). */
  readyTimeoutMs?: number;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface SluiceProcess {
  child: ChildProcess;
  adminUrl: string;
  adminPort: number;
  xdsPort: number;
  /** Every JSON log line so far. */
  logs(): LogLine[];
  stderr(): string;
  /** Sends SIGTERM (or `signal`) and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function childEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...env };
}

function spawnSluice(argv: string[], options: ProcessOptions): ChildProcess {
  return spawn(process.execPath, [SLUICE_BIN, ...argv], {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Runs `sluice serve` with `options` and waits until it serves (or fails with what it printed). */
export async function startSluiceProcess(options: ProcessOptions = {}): Promise<SluiceProcess> {
  const child = spawnSluice(['serve', ...(options.args ?? [])], options);
  const lines: LogLine[] = [];
  let stdoutRest = '';
  let stderr = '';
  let onLine: ((line: LogLine) => void) | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (stdoutRest + chunk).split('\n');
    stdoutRest = parts.pop() ?? '';
    for (const part of parts) {
      if (part.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(part) as LogLine;
      } catch {
        line = { level: 0, msg: part };
      }
      lines.push(line);
      onLine?.(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const serving = await new Promise<LogLine>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice did not serve within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    onLine = (line) => {
      if (line.msg !== 'sluice is serving') return;
      clearTimeout(timer);
      resolve(line);
    };
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited with ${code} before serving; stderr: ${stderr}`));
    });
  });
  onLine = undefined;
  return {
    child,
    adminUrl: String(serving['adminUrl']),
    adminPort: Number(serving['adminPort']),
    xdsPort: Number(serving['xdsPort']),
    logs: () => [...lines],
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      const exited = exitOf(child);
      child.kill(signal);
      return exited;
    },
  };
}

/** A `sluice <argv>` still running: what it printed so far, and its end. */
export interface RunningCommand {
  /** Resolves with the first stdout line `matches` accepts (rejects after `timeoutMs`). */
  line(matches: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<Exited>;
}

/** Starts `sluice <argv>` (e.g. a command that follows something) and lets a test read its lines as they come. */
export function startSluiceCommand(argv: string[], options: ProcessOptions = {}): RunningCommand {
  const child = spawnSluice(argv, options);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of waiters) waiter();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.readyTimeoutMs ?? 20_000);
  // 'close', not 'exit': everything it printed has been read by then.
  const exited = new Promise<Exited>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      for (const waiter of waiters) waiter();
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    exited,
    line(matches, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = stdout.split('\n').slice(0, -1).find(matches);
          if (found === undefined && child.exitCode === null && child.signalCode === null) return;
          waiters.delete(check);
          clearTimeout(giveUp);
          if (found === undefined) reject(new Error(`sluice ${argv.join(' ')} ended without the line; stdout: ${stdout}; stderr: ${stderr}`));
          else resolve(found);
        };
        const giveUp = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such line from sluice ${argv.join(' ')} within ${timeoutMs} ms; stdout: ${stdout}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs `sluice <argv>` to its end (e.g. a refused start) and returns what it printed. */
export async function runSluice(argv: string[], options: ProcessOptions = {}): Promise<Exited> {
  return startSluiceCommand(argv, options).exited;
}
