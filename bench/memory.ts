// bench:memory — sluice's resident set and V8 heap (from its own /metrics:
// process_resident_memory_bytes, nodejs_heap_size_used_bytes) with one service and N connected,
// synced simulated Envoys, N growing step by step on one sluice process; bytes per proxy against
// the baseline with none connected. Each sample follows a full GC in sluice (bench/lib/gc-on-signal
// preloaded with --expose-gc), so the heap holds live objects only. SotW and delta, each on a
// fresh sluice.
//
//   npm run bench:memory                    N = 1000, 5000
//   npm run bench:memory -- --full          N = 1000, 5000, 10000
//   options: --sizes 500,2000 --modes sotw,delta --workers K

import { demoService } from './lib/admin-client.js';
import { startFleet, type Fleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { spawnSluice, type ServerHandle } from './lib/sluice-process.js';
import { Args, fmt, fmtBytes, percentile, round, runMain, sleep, table, writeResults } from './lib/util.js';

export interface MemoryPoint {
  mode: XdsMode;
  proxies: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** (value − value with no proxy) / proxies; NaN at 0. */
  rssPerProxy: number;
  heapPerProxy: number;
  connectMs: number;
}

/** Median of three samples, each right after a full garbage collection in sluice, once it is quiet. */
async function sample(sluice: ServerHandle): Promise<{ rss: number; heap: number; external: number }> {
  await sleep(2_000);
  const rss: number[] = [];
  const heap: number[] = [];
  const external: number[] = [];
  for (let i = 0; i < 3; i++) {
    sluice.gc();
    await sleep(500);
    const metrics = await sluice.admin.metrics();
    rss.push(metrics.get('process_resident_memory_bytes') ?? Number.NaN);
    heap.push(metrics.get('nodejs_heap_size_used_bytes') ?? Number.NaN);
    external.push(metrics.get('nodejs_external_memory_bytes') ?? Number.NaN);
    await sleep(300);
  }
  return { rss: percentile(rss, 50), heap: percentile(heap, 50), external: percentile(external, 50) };
}

async function runMode(mode: XdsMode, sizes: number[], workers: number | undefined, log: (line: string) => void): Promise<{ points: MemoryPoint[]; errors: string[] }> {
  const sluice = await spawnSluice({ gcOnSignal: true });
  const fleets: Fleet[] = [];
  const errors: string[] = [];
  try {
    await sluice.admin.putService('predict', demoService());
    const base = await sample(sluice);
    const points: MemoryPoint[] = [{ mode, proxies: 0, rssBytes: base.rss, heapUsedBytes: base.heap, externalBytes: base.external, rssPerProxy: Number.NaN, heapPerProxy: Number.NaN, connectMs: 0 }];
    let connected = 0;
    for (const size of [...sizes].sort((a, b) => a - b)) {
      const more = size - connected;
      if (more <= 0) continue;
      const fleet = startFleet({ address: sluice.xdsAddress, mode, size: more, prefix: `mem-${mode}-${size}-`, ...(workers ? { workers } : {}) });
      fleets.push(fleet);
      const result = await fleet.connect(120_000);
      errors.push(...result.failures);
      connected = size;
      const done = await sluice.admin.waitComplete(await sluice.admin.currentRevision(), size, 60_000);
      if (!done.complete) errors.push(`${size} proxies: not all in sync`);
      const memory = await sample(sluice);
      const point: MemoryPoint = {
        mode,
        proxies: size,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heap,
        externalBytes: memory.external,
        rssPerProxy: (memory.rss - base.rss) / size,
        heapPerProxy: (memory.heap - base.heap) / size,
        connectMs: result.ms,
      };
      points.push(point);
      log(`  ${mode} N=${size}: rss ${fmtBytes(point.rssBytes)}, heap ${fmtBytes(point.heapUsedBytes)}`);
    }
    for (const fleet of fleets) {
      const report = await fleet.report();
      if (report.errors > 0) errors.push(...report.errorSamples);
    }
    errors.push(...sluice.errorLines());
    return { points, errors };
  } finally {
    for (const fleet of fleets) await fleet.close();
    await sluice.stop({ removeState: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['full', 'sizes', 'modes', 'workers']);
  const sizes = args.numbers('sizes', args.flag('full') ? [1000, 5000, 10000] : [1000, 5000]);
  const modes = (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[];
  const workers = args.string('workers') ? args.number('workers', 1) : undefined;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`memory: N = ${sizes.join(', ')}; ${modes.join(' and ')}`);
  const points: MemoryPoint[] = [];
  const errors: string[] = [];
  for (const mode of modes) {
    const result = await runMode(mode, sizes, workers, log);
    points.push(...result.points);
    errors.push(...result.errors);
  }
  process.stdout.write(
    `\n${table(
      ['mode', 'proxies', 'RSS', 'heap used', 'external', 'RSS / proxy', 'heap / proxy'],
      points.map((p) => [p.mode, p.proxies, fmtBytes(p.rssBytes), fmtBytes(p.heapUsedBytes), fmtBytes(p.externalBytes), fmtBytes(p.rssPerProxy), fmtBytes(p.heapPerProxy)]),
    )}\n\nerrors: ${errors.length}${errors.length ? `\n${errors.slice(0, 10).join('\n')}` : ''}\n`,
  );
  const path = writeResults('memory', {
    command: `npm run bench:memory${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { sizes, modes },
    points: points.map((p) => ({ ...p, rssPerProxy: round(p.rssPerProxy, 0), heapPerProxy: round(p.heapPerProxy, 0) })),
    errors,
  });
  process.stdout.write(`results: ${path} (${fmt(points.length, 0)} points)\n`);
  if (errors.length > 0) process.exitCode = 1;
}

runMain(import.meta.url, main);
