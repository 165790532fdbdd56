// bench:mesh — a service mesh's sidecars: N simulated Envoys, each with its own node cluster (its
// service's name), connect all at once, then all drop and reconnect at once. A second listener
// selects the first few node clusters, so the fleet needs two distinct outputs however many node
// clusters it has. Reports the time until sluice sees every proxy in sync, sluice's CPU over each
// phase (and the clients'), and its snapshot builds; errors (stream errors, sluice error logs,
// proxies out of sync) must be 0.
//
//   npm run bench:mesh                      N = 1000, SotW and delta
//   options: --size 1000 --modes sotw,delta --selected 10 --workers K --cpu-prof --light

import { join } from 'node:path';
import { demoService, type RevisionReport } from './lib/admin-client.js';
import { startFleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { freePort, inProcessSluice, spawnSluice, type ServerHandle } from './lib/sluice-process.js';
import { Args, RESULTS_DIR, fmt, now, processCpuMs, round, runMain, table, writeResults } from './lib/util.js';

export interface MeshOptions {
  size: number;
  modes: XdsMode[];
  /** Node clusters the extra listener selects (the first ones). */
  selected: number;
  light?: boolean;
  workers?: number;
  /** Extra node flags for the sluice process (e.g. --cpu-prof). */
  sluiceNodeArgs?: string[];
  log?: (line: string) => void;
}

export type MeshPhase = 'connect' | 'reconnect';

export interface MeshCase {
  mode: XdsMode;
  phase: MeshPhase;
  size: number;
  /** From the first connect (or the reconnect) to sluice reporting all N proxies in sync. */
  syncMs: number;
  /** CPU sluice used over the phase (NaN in light mode, where sluice shares the process). */
  sluiceCpuMs: number;
  /** CPU the simulated Envoys' processes used over the phase (on the same machine). */
  clientCpuMs: number;
  /** Snapshot builds over the phase (sluice_snapshot_builds_total). */
  builds: number;
  inSync: boolean;
  errors: number;
  errorSamples: string[];
}

/** Snapshot builds so far, read once the snapshots are built from `revision` (so its own build is not counted later). */
async function snapshotBuildsAfter(sluice: ServerHandle, revision: number): Promise<number> {
  const deadline = now() + 30_000;
  for (;;) {
    const metrics = await sluice.admin.metrics();
    if ((metrics.get('sluice_snapshot_revision') ?? 0) >= revision) return metrics.get('sluice_snapshot_builds_total') ?? Number.NaN;
    if (now() > deadline) throw new Error(`sluice did not build revision ${revision} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const maxStreamId = (report: RevisionReport): number => Math.max(0, ...report.proxies.flatMap((p) => p.streams.map((s) => s.id)));

async function runMode(mode: XdsMode, options: MeshOptions): Promise<MeshCase[]> {
  const log = options.log ?? (() => undefined);
  const { size } = options;
  const sluice = options.light ? await inProcessSluice() : await spawnSluice({ ...(options.sluiceNodeArgs ? { nodeArgs: options.sluiceNodeArgs } : {}) });
  const prefix = `mesh-${mode}-`;
  const cases: MeshCase[] = [];
  try {
    await sluice.admin.putService('predict', demoService());
    const selected = Array.from({ length: Math.min(options.selected, size) }, (_, i) => `${prefix}${i}`);
    let revision = await sluice.admin.currentRevision();
    if (selected.length > 0) {
      revision = await sluice.admin.mutate('PUT', '/v1/listeners/mesh-edge', { port: await freePort(), nodes: { clusters: selected } });
    }
    const fleet = startFleet({
      address: sluice.xdsAddress,
      mode,
      size,
      prefix,
      light: options.light ?? false,
      ownNodeClusters: true,
      concurrency: size,
      ...(options.workers ? { workers: options.workers } : {}),
    });
    try {
      let errorsBefore = 0;
      let oldStreams = 0;
      for (const phase of ['connect', 'reconnect'] as const) {
        const buildsBefore = await snapshotBuildsAfter(sluice, revision);
        const cpuBefore = processCpuMs(sluice.pid);
        const errorSamples: string[] = [];
        await fleet.report(); // starts the clients' CPU count
        await fleet.mark();
        const t0 = now();
        if (phase === 'connect') {
          const connected = await fleet.connect(300_000);
          errorSamples.push(...connected.failures);
        } else {
          await fleet.churn();
        }
        const onNewStreams = (r: RevisionReport): boolean => r.proxies.every((p) => p.streams.length > 0 && p.streams.every((s) => s.id > oldStreams));
        const done = await sluice.admin.waitComplete(revision, size, 300_000, 'wait', onNewStreams);
        const syncMs = done.at - t0;
        const cpuMs = processCpuMs(sluice.pid) - cpuBefore;
        const builds = (await snapshotBuildsAfter(sluice, revision)) - buildsBefore;
        oldStreams = maxStreamId(done.report);
        const fleetReport = await fleet.report();
        const inSync = done.complete && fleetReport.connected === size && fleetReport.synced === size;
        const errors = fleetReport.errors - errorsBefore + (inSync ? 0 : 1);
        errorsBefore = fleetReport.errors;
        errorSamples.push(...fleetReport.errorSamples);
        if (!inSync) errorSamples.push(`${mode} ${phase}: not all ${size} proxies in sync (${fleetReport.synced} synced, ${fleetReport.connected} connected, complete ${done.complete})`);
        cases.push({ mode, phase, size, syncMs, sluiceCpuMs: cpuMs, clientCpuMs: fleetReport.cpuMs, builds, inSync, errors, errorSamples: errorSamples.slice(0, 10) });
        log(`  ${mode} ${phase}: all ${size} in sync after ${fmt(syncMs)} ms (sluice CPU ${fmt(cpuMs)} ms, clients' CPU ${fmt(fleetReport.cpuMs)} ms, ${builds} builds)`);
      }
    } finally {
      await fleet.close();
    }
  } finally {
    await sluice.stop({ removeState: true });
  }
  const sluiceErrors = sluice.errorLines();
  if (sluiceErrors.length > 0 && cases[0]) {
    cases[0].errors += sluiceErrors.length;
    cases[0].errorSamples.push(...sluiceErrors.slice(0, 5));
  }
  return cases;
}

export async function runMesh(options: MeshOptions): Promise<MeshCase[]> {
  const cases: MeshCase[] = [];
  for (const mode of options.modes) cases.push(...(await runMode(mode, options)));
  return cases;
}

export function meshTable(cases: readonly MeshCase[]): string {
  return table(
    ['mode', 'phase', 'N', 'all in sync', 'sluice CPU', "clients' CPU", 'snapshot builds', 'errors'],
    cases.map((c) => [
      c.mode,
      c.phase,
      c.size,
      `${fmt(c.syncMs)} ms`,
      Number.isNaN(c.sluiceCpuMs) ? 'n/a' : `${fmt(c.sluiceCpuMs)} ms`,
      `${fmt(c.clientCpuMs)} ms`,
      c.builds,
      c.errors,
    ]),
  );
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['size', 'modes', 'selected', 'workers', 'light', 'cpu-prof']);
  const profileDir = join(RESULTS_DIR, 'profiles');
  const options: MeshOptions = {
    size: args.number('size', 1000),
    modes: (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[],
    selected: args.number('selected', 10),
    light: args.flag('light'),
    ...(args.string('workers') ? { workers: args.number('workers', 1) } : {}),
    ...(args.flag('cpu-prof') ? { sluiceNodeArgs: ['--cpu-prof', '--cpu-prof-interval', '2000', '--cpu-prof-dir', profileDir] } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  process.stderr.write(`mesh: N = ${options.size} node clusters; ${options.selected} selected by a second listener; ${options.modes.join(' and ')}\n`);
  const cases = await runMesh(options);
  process.stdout.write(`\n${meshTable(cases)}\n`);
  const samples = cases.flatMap((c) => c.errorSamples);
  if (samples.length > 0) process.stdout.write(`\nerrors:\n${[...new Set(samples)].slice(0, 10).join('\n')}\n`);
  const path = writeResults('mesh', {
    command: `npm run bench:mesh${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { size: options.size, modes: options.modes, selected: options.selected, light: options.light, profile: options.sluiceNodeArgs ? profileDir : undefined },
    cases: cases.map((c) => ({ ...c, syncMs: round(c.syncMs, 2), sluiceCpuMs: round(c.sluiceCpuMs, 2), clientCpuMs: round(c.clientCpuMs, 2) })),
  });
  process.stdout.write(`\nresults: ${path}\n`);
  if (cases.some((c) => c.errors > 0 || !c.inSync)) process.exitCode = 1;
}

runMain(import.meta.url, main);
