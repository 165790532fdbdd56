// bench:memory — the server's resident set and live heap (from its own /metrics:
// process_resident_memory_bytes and sluice's nodejs_heap_size_used_bytes or the go-control-plane
// peer's go_memstats_heap_alloc_bytes) with one service and N connected, synced simulated Envoys,
// N growing step by step on one server process; bytes per proxy against the baseline with none
// connected. Each sample follows a full GC in the server (sluice: bench/lib/gc-on-signal preloaded
// with --expose-gc; the peer: runtime.GC on the same signal), so the heap holds live objects only.
// SotW and delta, each on a fresh server.
//
//   npm run bench:memory                    N = 1000, 5000
//   npm run bench:memory -- --full          N = 1000, 5000, 10000
//   options: --sizes 500,2000 --modes sotw,delta --workers K
//            --server sluice|peer|both (both: sluice then the peer per mode; prints sluice/peer ratios)

import { demoService } from './lib/admin-client.js';
import { startFleet, type Fleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { fmtRatio, parseServers, prepareServers, ratio, startServer } from './lib/servers.js';
import type { ServerHandle, ServerKind } from './lib/sluice-process.js';
import { Args, fmt, fmtBytes, percentile, round, runMain, sleep, table, writeResults } from './lib/util.js';

export interface MemoryPoint {
  server: ServerKind;
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

/** Median of three samples, each right after a full garbage collection in the server, once it is quiet. */
async function sample(controlPlane: ServerHandle): Promise<{ rss: number; heap: number; external: number }> {
  await sleep(2_000);
  const rss: number[] = [];
  const heap: number[] = [];
  const external: number[] = [];
  for (let i = 0; i < 3; i++) {
    controlPlane.gc();
    await sleep(500);
    const metrics = await controlPlane.admin.metrics();
    rss.push(metrics.get('process_resident_memory_bytes') ?? Number.NaN);
    heap.push(metrics.get(controlPlane.heapMetric) ?? Number.NaN);
    external.push(metrics.get('nodejs_external_memory_bytes') ?? Number.NaN);
    await sleep(300);
  }
  return { rss: percentile(rss, 50), heap: percentile(heap, 50), external: percentile(external, 50) };
}

async function runMode(server: ServerKind, mode: XdsMode, sizes: number[], workers: number | undefined, log: (line: string) => void): Promise<{ points: MemoryPoint[]; errors: string[] }> {
  const controlPlane = await startServer(server, { gcOnSignal: true });
  const fleets: Fleet[] = [];
  const errors: string[] = [];
  try {
    await controlPlane.admin.putService('predict', demoService());
    const base = await sample(controlPlane);
    const points: MemoryPoint[] = [{ server, mode, proxies: 0, rssBytes: base.rss, heapUsedBytes: base.heap, externalBytes: base.external, rssPerProxy: Number.NaN, heapPerProxy: Number.NaN, connectMs: 0 }];
    let connected = 0;
    for (const size of [...sizes].sort((a, b) => a - b)) {
      const more = size - connected;
      if (more <= 0) continue;
      const fleet = startFleet({ address: controlPlane.xdsAddress, mode, size: more, prefix: `mem-${mode}-${size}-`, ...(workers ? { workers } : {}) });
      fleets.push(fleet);
      const result = await fleet.connect(120_000);
      errors.push(...result.failures);
      connected = size;
      const done = await controlPlane.admin.waitComplete(await controlPlane.admin.currentRevision(), size, 60_000);
      if (!done.complete) errors.push(`${size} proxies: not all in sync`);
      const memory = await sample(controlPlane);
      const point: MemoryPoint = {
        server,
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
      log(`  ${server} ${mode} N=${size}: rss ${fmtBytes(point.rssBytes)}, heap ${fmtBytes(point.heapUsedBytes)}`);
    }
    for (const fleet of fleets) {
      const report = await fleet.report();
      if (report.errors > 0) errors.push(...report.errorSamples);
    }
    errors.push(...controlPlane.errorLines());
    return { points, errors };
  } finally {
    for (const fleet of fleets) await fleet.close();
    await controlPlane.stop({ removeState: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['full', 'sizes', 'modes', 'workers', 'server']);
  const servers = parseServers(args.string('server'));
  const sizes = args.numbers('sizes', args.flag('full') ? [1000, 5000, 10000] : [1000, 5000]);
  const modes = (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[];
  const workers = args.string('workers') ? args.number('workers', 1) : undefined;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`memory: ${servers.join(' and ')}; N = ${sizes.join(', ')}; ${modes.join(' and ')}`);
  prepareServers(servers, log);
  const points: MemoryPoint[] = [];
  const errors: string[] = [];
  for (const mode of modes) {
    for (const server of servers) {
      const result = await runMode(server, mode, sizes, workers, log);
      points.push(...result.points);
      errors.push(...result.errors);
    }
  }
  // sluice's bytes per proxy over the peer's, per mode and N.
  const ratios = points.flatMap((sluice) => {
    const peer = points.find((p) => p.server === 'peer' && p.mode === sluice.mode && p.proxies === sluice.proxies);
    if (sluice.server !== 'sluice' || !peer || sluice.proxies === 0) return [];
    return [{ mode: sluice.mode, proxies: sluice.proxies, rss: ratio(sluice.rssBytes, peer.rssBytes), rssPerProxy: ratio(sluice.rssPerProxy, peer.rssPerProxy), heapPerProxy: ratio(sluice.heapPerProxy, peer.heapPerProxy) }];
  });
  process.stdout.write(
    `\n${table(
      ['server', 'mode', 'proxies', 'RSS', 'heap used', 'external', 'RSS / proxy', 'heap / proxy'],
      points.map((p) => [p.server, p.mode, p.proxies, fmtBytes(p.rssBytes), fmtBytes(p.heapUsedBytes), fmtBytes(p.externalBytes), fmtBytes(p.rssPerProxy), fmtBytes(p.heapPerProxy)]),
    )}\n${
      ratios.length === 0
        ? ''
        : `\n${table(
            ['sluice / peer', 'proxies', 'RSS', 'RSS / proxy', 'heap / proxy'],
            ratios.map((r) => [r.mode, r.proxies, fmtRatio(r.rss), fmtRatio(r.rssPerProxy), fmtRatio(r.heapPerProxy)]),
          )}\n`
    }\nerrors: ${errors.length}${errors.length ? `\n${errors.slice(0, 10).join('\n')}` : ''}\n`,
  );
  const path = writeResults('memory', {
    command: `npm run bench:memory${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { servers, sizes, modes },
    points: points.map((p) => ({ ...p, rssPerProxy: round(p.rssPerProxy, 0), heapPerProxy: round(p.heapPerProxy, 0) })),
    ratios: ratios.map((r) => ({ ...r, rss: round(r.rss, 3), rssPerProxy: round(r.rssPerProxy, 3), heapPerProxy: round(r.heapPerProxy, 3) })),
    errors,
  });
  process.stdout.write(`results: ${path} (${fmt(points.length, 0)} points)\n`);
  if (errors.length > 0) process.exitCode = 1;
}

runMain(import.meta.url, main);
