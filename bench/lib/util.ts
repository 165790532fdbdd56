// Shared helpers of the benchmarks: a clock shared by every process on the machine, summaries
// (nearest-rank percentiles), the printed table, the JSON result files and the command line.
// Never asserts on time: benchmarks report, they do not judge.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this module (in bench/ or in the build output under dist/). */
export const REPO_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'sluice.js'))) return dir;
    const parent = resolve(dir, '..');
    if (parent === dir) throw new Error('cannot find the sluice repository root');
    dir = parent;
  }
})();

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), which every process of the machine shares:
 * a time stamped in a client worker can be compared with one taken by the coordinator.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => percentile(sorted, p);
  const mean = sorted.length === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: sorted.at(-1) ?? Number.NaN,
    mean,
  };
}

/** Rounds a figure for a table or a JSON file (3 significant decimals at most). */
export function round(value: number, decimals = 1): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

export function fmt(value: number, decimals = 1): string {
  return Number.isFinite(value) ? round(value, decimals).toFixed(decimals) : '-';
}

export function fmtBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const abs = Math.abs(bytes);
  if (abs >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** A plain text table with right-aligned columns (the first one left-aligned). */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function gitRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+uncommitted-src` : head;
  } catch {
    return 'unknown';
  }
}

/** What the figures were measured on. */
export function machine(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    sluiceRevision: gitRevision(),
    // Set when the runs used another sluice build (e.g. a patched copy): sluiceRevision does not describe it.
    ...(process.env['SLUICE_BENCH_BIN'] ? { sluiceBin: process.env['SLUICE_BENCH_BIN'] } : {}),
  };
}

/** Writes bench/results/<name>-<time>.json and bench/results/<name>-latest.json; returns the first path. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const at = new Date();
  const body = JSON.stringify({ benchmark: name, at: at.toISOString(), machine: machine(), ...data }, null, 2) + '\n';
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const path = join(RESULTS_DIR, `${name}-${stamp}.json`);
  writeFileSync(path, body);
  writeFileSync(join(RESULTS_DIR, `${name}-latest.json`), body);
  return path;
}

/** `--flag`, `--flag value` and `--flag=value` arguments; anything else is an error. */
export class Args {
  private readonly values = new Map<string, string | true>();

  constructor(argv: readonly string[], known: readonly string[]) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
      const [key, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (!known.includes(key)) throw new Error(`unknown option --${key} (known: ${known.map((k) => `--${k}`).join(', ')})`);
      if (inline !== undefined) this.values.set(key, inline);
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) this.values.set(key, argv[++i]!);
      else this.values.set(key, true);
    }
  }

  flag(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const value = this.values.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  number(name: string, fallback: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number, not "${value}"`);
    return parsed;
  }

  numbers(name: string, fallback: number[]): number[] {
    const value = this.string(name);
    if (value === undefined) return fallback;
    return value.split(',').map((part) => {
      const parsed = Number(part);
      if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`--${name} takes positive integers, not "${part}"`);
      return parsed;
    });
  }
}

/** Runs a benchmark's main when its module is the process's entry point; exits non-zero on failure. */
export function runMain(moduleUrl: string, main: (argv: string[]) => Promise<void>): void {
  const entry = process.argv[1];
  if (entry === undefined || resolve(entry) !== fileURLToPath(moduleUrl)) return;
  main(process.argv.slice(2)).then(
    () => process.exit(),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/** Distinct green percentages for successive weight changes (consecutive values always differ). */
export function greenPercent(step: number): number {
  return (step * 37 + 10) % 101;
}

/** CPU time of a process so far (Linux: utime + stime from /proc), in ms; NaN when unknown. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), counted after the command name, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}
