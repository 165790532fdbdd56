// bench:convergence — N simulated Envoys on ADS (in client worker processes) and sluice (or the
// go-control-plane peer) in its own process with one service; for each of `changes` weight
// changes, the time from the PUT /v1/services/predict/weights to (a) GET /v1/revisions/{n}?wait
// answering complete (the server's own view: every connected proxy ACKed the revision) and (b) the
// last ACK any client sent (the clients' receipt time stamps). SotW and delta, for each N.
//
//   npm run bench:convergence                 N = 100, 1000
//   npm run bench:convergence -- --full       N = 100, 1000, 5000, 10000
//   options: --sizes 100,2000 --modes sotw,delta --changes 20 --warmup 2 --workers K
//            --server sluice|peer|both (both: sluice then the peer per case; prints sluice/peer ratios)
//            --budget 300 (s per case; no change is started that would likely end after it)
//            --change-timeout 300 (s; a change not complete by then stops its case)
//            --completion wait|poll (?wait=30s long-poll, or plain GETs every 10 ms)
//            --cpu-prof (sluice runs with node --cpu-prof into bench/results/profiles/)

import { join } from 'node:path';
import { demoService } from './lib/admin-client.js';
import { startFleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { fmtRatio, parseServers, prepareServers, ratio, startServer } from './lib/servers.js';
import type { ServerHandle, ServerKind } from './lib/sluice-process.js';
import { Args, RESULTS_DIR, fmt, greenPercent, now, percentile, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

export interface ConvergenceOptions {
  sizes: number[];
  modes: XdsMode[];
  /** Measured weight changes per case. */
  changes: number;
  /** Unmeasured changes first (JIT and caches warm up); default 2, none from N = 5000 (a change takes minutes there). */
  warmup?: number;
  /** Everything in this process (sluice and clients): the smoke test's mode. The peer still runs as its own process. */
  light?: boolean;
  /** The servers to measure, each case run on each in turn (default: sluice). */
  servers?: ServerKind[];
  workers?: number;
  /** Extra node flags for the sluice process (e.g. --cpu-prof). */
  sluiceNodeArgs?: string[];
  /**
   * How to learn that a revision is complete: `wait` (default) long-polls GET /v1/revisions/{n}?wait=30s;
   * `poll` GETs it without ?wait every 10 ms (shows what the waiter itself costs sluice).
   */
  completion?: 'wait' | 'poll';
  /** A change not complete after this long stops its case (default 300 s). */
  changeTimeoutMs?: number;
  /** No change is started that would likely end past this (default 10 min; 300 s from the command line). */
  caseBudgetMs?: number;
  log?: (line: string) => void;
}

export interface ChangeSample {
  revision: number;
  green: number;
  /** PUT answered. */
  putMs: number;
  /** GET /v1/revisions/{n}?wait answered complete with every proxy connected (or the time given up). */
  completeMs: number;
  complete: boolean;
  /** Last ACK sent by any client (client time stamps). */
  lastAckMs: number;
  /** The median client's ACK. */
  medianAckMs: number;
  /** Clients that ACKed something after the change / whose routes version changed. */
  acked: number;
  routesChanged: number;
}

export interface ConvergenceCase {
  server: ServerKind;
  mode: XdsMode;
  size: number;
  connectMs: number;
  connectFailed: number;
  samples: ChangeSample[];
  /** The server answering complete. */
  complete: Summary;
  lastAck: Summary;
  medianProxyAck: Summary;
  /** The server's CPU time (process_cpu_seconds_total) per measured change. */
  serverCpuMsPerChange: number;
  /** Mean of sluice's own sluice_convergence_seconds over the measured changes (NaN for the peer). */
  sluiceObservedMeanMs: number;
  clientCpuMsPerChange: number;
  errors: number;
  errorSamples: string[];
  /** Every change reached every client and all end on the same routes version, without error. */
  allInSync: boolean;
}

async function runCase(server: ServerKind, mode: XdsMode, size: number, options: ConvergenceOptions): Promise<ConvergenceCase> {
  const log = options.log ?? (() => undefined);
  const warmup = options.warmup ?? (size >= 5000 ? 0 : 2);
  const changeTimeoutMs = options.changeTimeoutMs ?? 300_000;
  const budgetMs = options.caseBudgetMs ?? 600_000;
  const controlPlane: ServerHandle = await startServer(server, { light: options.light ?? false, sluiceNodeArgs: options.sluiceNodeArgs ?? [] });
  const errorSamples: string[] = [];
  try {
    await controlPlane.admin.putService('predict', demoService());
    const fleet = startFleet({ address: controlPlane.xdsAddress, mode, size, light: options.light ?? false, ...(options.workers ? { workers: options.workers } : {}) });
    try {
      const connect = await fleet.connect(120_000);
      errorSamples.push(...connect.failures);
      log(`  ${server} ${mode} N=${size}: ${connect.connected} connected in ${fmt(connect.ms / 1000, 1)} s`);
      const initial = await controlPlane.admin.waitComplete(await controlPlane.admin.currentRevision(), size, 60_000);
      if (!initial.complete) errorSamples.push(`initial revision not complete with ${size} proxies`);
      await fleet.report(); // resets the clients' CPU counters

      const samples: ChangeSample[] = [];
      let before = await controlPlane.admin.metrics();
      let clientCpuMs = 0;
      const started = now();
      let lastChangeMs = 0;
      for (let step = 0; step < warmup + options.changes; step++) {
        // Stop before a change that would likely end past the budget (judged by the previous one).
        if (now() - started + lastChangeMs > budgetMs) {
          log(`  ${server} ${mode} N=${size}: budget of ${budgetMs / 1000} s spent after ${samples.length} changes`);
          break;
        }
        const green = greenPercent(step + 1);
        await fleet.mark();
        const t0 = now();
        const revision = await controlPlane.admin.putWeights('predict', { blue: 100 - green, green });
        const putMs = now() - t0;
        const done = await controlPlane.admin.waitComplete(revision, size, changeTimeoutMs, options.completion ?? 'wait');
        lastChangeMs = done.at - t0;
        const report = await fleet.report();
        const acks = report.lastAckAt.filter((at) => at >= 0).map((at) => at - t0);
        const sample: ChangeSample = {
          revision,
          green,
          putMs,
          completeMs: done.at - t0,
          complete: done.complete,
          lastAckMs: acks.length > 0 ? Math.max(...acks) : Number.NaN,
          medianAckMs: percentile(acks, 50),
          acked: acks.length,
          routesChanged: report.routesChanged,
        };
        if (report.errors > 0) errorSamples.push(...report.errorSamples);
        if (!done.complete) {
          // The server is still working through the ACKs: further changes would only pile up.
          errorSamples.push(`revision ${revision} not complete after ${changeTimeoutMs / 1000} s; case stopped`);
          log(`  ${server} ${mode} N=${size}: revision ${revision} not complete after ${changeTimeoutMs / 1000} s; stopping this case`);
          if (step >= warmup) samples.push(sample);
          break;
        }
        if (step === warmup - 1) {
          before = await controlPlane.admin.metrics();
        } else if (step >= warmup) {
          samples.push(sample);
          clientCpuMs += report.cpuMs;
          log(
            `  ${server} ${mode} N=${size} change ${samples.length}: complete ${fmt(sample.completeMs)} ms, last ACK ${fmt(sample.lastAckMs)} ms, ` +
              `${sample.acked}/${size} ACKed`,
          );
        }
        await sleep(50);
      }
      // After a change that timed out the server may still be busy: its metrics then count as unknown.
      const after = await controlPlane.admin.metrics().catch(() => new Map<string, number>());
      const final = await fleet.report();
      const metric = (map: Map<string, number>, name: string): number => map.get(name) ?? Number.NaN;
      const measured = Math.max(1, samples.length);
      const observedCount = metric(after, 'sluice_convergence_seconds_count') - metric(before, 'sluice_convergence_seconds_count');
      const observedSum = metric(after, 'sluice_convergence_seconds_sum') - metric(before, 'sluice_convergence_seconds_sum');
      const versions = Object.entries(final.routesVersions);
      const allInSync =
        connect.failed === 0 &&
        final.errors === 0 &&
        versions.length === 1 &&
        versions[0]![1] === size &&
        samples.every((s) => s.complete && s.acked === size && s.routesChanged === size);
      return {
        server,
        mode,
        size,
        connectMs: connect.ms,
        connectFailed: connect.failed,
        samples,
        complete: summarize(samples.filter((s) => s.complete).map((s) => s.completeMs)),
        lastAck: summarize(samples.map((s) => s.lastAckMs)),
        medianProxyAck: summarize(samples.map((s) => s.medianAckMs)),
        serverCpuMsPerChange: ((metric(after, 'process_cpu_seconds_total') - metric(before, 'process_cpu_seconds_total')) * 1000) / measured,
        sluiceObservedMeanMs: observedCount > 0 ? (observedSum / observedCount) * 1000 : Number.NaN,
        clientCpuMsPerChange: clientCpuMs / measured,
        errors: final.errors + connect.failed + controlPlane.errorLines().length,
        errorSamples: [...errorSamples, ...controlPlane.errorLines()].slice(0, 10),
        allInSync,
      };
    } finally {
      await fleet.close();
    }
  } finally {
    await controlPlane.stop({ removeState: true });
  }
}

export async function runConvergence(options: ConvergenceOptions): Promise<ConvergenceCase[]> {
  const cases: ConvergenceCase[] = [];
  for (const size of options.sizes) {
    for (const mode of options.modes) {
      for (const server of options.servers ?? ['sluice']) {
        try {
          cases.push(await runCase(server, mode, size, options));
        } catch (error) {
          // One case failing (e.g. a server unresponsive at a huge N) must not lose the others' figures.
          options.log?.(`  ${server} ${mode} N=${size}: failed: ${String(error)}`);
          const none = summarize([]);
          cases.push({
            server,
            mode,
            size,
            connectMs: Number.NaN,
            connectFailed: 0,
            samples: [],
            complete: none,
            lastAck: none,
            medianProxyAck: none,
            serverCpuMsPerChange: Number.NaN,
            sluiceObservedMeanMs: Number.NaN,
            clientCpuMsPerChange: Number.NaN,
            errors: 1,
            errorSamples: [String(error)],
            allInSync: false,
          });
      }
      }
    }
  }
  return cases;
}

export function convergenceTable(cases: readonly ConvergenceCase[]): string {
  return table(
    ['server', 'mode', 'N', 'changes', 'not complete', 'complete p50', 'p99', 'max', 'last ACK p50', 'p99', 'median proxy p50', 'CPU/change', 'connect', 'errors', 'in sync'],
    cases.map((c) => [
      c.server,
      c.mode,
      c.size,
      c.samples.length,
      c.samples.filter((s) => !s.complete).length,
      `${fmt(c.complete.p50)} ms`,
      `${fmt(c.complete.p99)} ms`,
      `${fmt(c.complete.max)} ms`,
      `${fmt(c.lastAck.p50)} ms`,
      `${fmt(c.lastAck.p99)} ms`,
      `${fmt(c.medianProxyAck.p50)} ms`,
      `${fmt(c.serverCpuMsPerChange)} ms`,
      `${fmt(c.connectMs / 1000)} s`,
      c.errors,
      c.allInSync ? 'yes' : 'NO',
    ]),
  );
}

export interface ConvergenceRatio {
  mode: XdsMode;
  size: number;
  /** sluice's figure over the peer's, per figure (below 1: sluice took less). */
  completeP50: number;
  lastAckP50: number;
  lastAckP99: number;
  medianProxyP50: number;
  cpuPerChange: number;
  connect: number;
}

/** sluice/peer per case both servers ran. */
export function convergenceRatios(cases: readonly ConvergenceCase[]): ConvergenceRatio[] {
  return cases.flatMap((sluice) => {
    const peer = cases.find((c) => c.server === 'peer' && c.mode === sluice.mode && c.size === sluice.size);
    if (sluice.server !== 'sluice' || !peer) return [];
    return [
      {
        mode: sluice.mode,
        size: sluice.size,
        completeP50: ratio(sluice.complete.p50, peer.complete.p50),
        lastAckP50: ratio(sluice.lastAck.p50, peer.lastAck.p50),
        lastAckP99: ratio(sluice.lastAck.p99, peer.lastAck.p99),
        medianProxyP50: ratio(sluice.medianProxyAck.p50, peer.medianProxyAck.p50),
        cpuPerChange: ratio(sluice.serverCpuMsPerChange, peer.serverCpuMsPerChange),
        connect: ratio(sluice.connectMs, peer.connectMs),
      },
    ];
  });
}

export function convergenceRatioTable(ratios: readonly ConvergenceRatio[]): string {
  return table(
    ['sluice / peer', 'N', 'complete p50', 'last ACK p50', 'last ACK p99', 'median proxy p50', 'CPU/change', 'connect'],
    ratios.map((r) => [r.mode, r.size, fmtRatio(r.completeP50), fmtRatio(r.lastAckP50), fmtRatio(r.lastAckP99), fmtRatio(r.medianProxyP50), fmtRatio(r.cpuPerChange), fmtRatio(r.connect)]),
  );
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['full', 'sizes', 'modes', 'changes', 'warmup', 'workers', 'cpu-prof', 'light', 'completion', 'budget', 'change-timeout', 'server']);
  const servers = parseServers(args.string('server'));
  const completion = args.string('completion') ?? 'wait';
  if (completion !== 'wait' && completion !== 'poll') throw new Error('--completion takes wait or poll');
  const sizes = args.numbers('sizes', args.flag('full') ? [100, 1000, 5000, 10000] : [100, 1000]);
  const modes = (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[];
  for (const mode of modes) if (mode !== 'sotw' && mode !== 'delta') throw new Error(`--modes takes sotw and/or delta, not ${mode}`);
  const profileDir = join(RESULTS_DIR, 'profiles');
  const options: ConvergenceOptions = {
    sizes,
    modes,
    changes: args.number('changes', 20),
    ...(args.string('warmup') ? { warmup: args.number('warmup', 2) } : {}),
    light: args.flag('light'),
    servers,
    completion,
    caseBudgetMs: args.number('budget', 300) * 1000,
    changeTimeoutMs: args.number('change-timeout', 300) * 1000,
    ...(args.string('workers') ? { workers: args.number('workers', 1) } : {}),
    ...(args.flag('cpu-prof') ? { sluiceNodeArgs: ['--cpu-prof', '--cpu-prof-interval', '2000', '--cpu-prof-dir', profileDir] } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  process.stderr.write(`convergence: ${servers.join(' and ')}; N = ${sizes.join(', ')}; ${modes.join(' and ')}; ${options.changes} changes each\n`);
  prepareServers(servers, options.log!);
  const cases = await runConvergence(options);
  process.stdout.write(`\n${convergenceTable(cases)}\n`);
  const ratios = convergenceRatios(cases);
  if (ratios.length > 0) process.stdout.write(`\n${convergenceRatioTable(ratios)}\n`);
  const path = writeResults('convergence', {
    command: `npm run bench:convergence${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { servers, sizes, modes, changes: options.changes, warmup: options.warmup ?? 'default', completion, caseBudgetS: options.caseBudgetMs! / 1000, light: options.light, profile: args.flag('cpu-prof') ? profileDir : undefined },
    cases: cases.map((c) => ({
      ...c,
      samples: c.samples.map((s) => ({ ...s, putMs: round(s.putMs, 2), completeMs: round(s.completeMs, 2), lastAckMs: round(s.lastAckMs, 2), medianAckMs: round(s.medianAckMs, 2) })),
    })),
    ratios: ratios.map((r) => Object.fromEntries(Object.entries(r).map(([key, value]) => [key, typeof value === 'number' && key !== 'size' ? round(value, 3) : value]))),
  });
  process.stdout.write(`\nresults: ${path}\n`);
  if (cases.some((c) => !c.allInSync)) process.exitCode = 1;
}

runMain(import.meta.url, main);
