// bench:shadow — what comparing shadow answers costs the user's request. Traffic at a fixed rate
// through a real Envoy to the demo's blue model (its own process) in alternating phases: `off`
// (nothing copied), `mirror` (the same share copied to green by a plain mirror, answers thrown
// away) and `shadow` (copied, both answers reported to sluice over ext_proc and compared), three
// rounds each, interleaved so machine noise hits all alike. Open loop, latency from the scheduled
// time. Per mode: non-2xx answers (should be 0) and latency percentiles; `shadow` against `mirror`
// is the cost of comparing, `mirror` against `off` the cost of the copies on the same machine.
//
//   npm run bench:shadow                    200 req/s, 5 s per phase, 3 rounds
//   options: --rate 200 --phase-seconds 5 --rounds 3 --percent 100

import { envoyVersion } from './lib/envoy.js';
import { post, startDataPlane, type Outcome } from './lib/model-traffic.js';
import type { ServerHandle } from './lib/sluice-process.js';
import { Args, fmt, now, processCpuMs, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

type Mode = 'off' | 'mirror' | 'shadow';
const MODES: Mode[] = ['off', 'mirror', 'shadow'];
/** Requests per phase that warm the connections up before the measured ones. */
const WARMUP = 20;

export interface ShadowModeResult {
  mode: Mode;
  requests: number;
  notOk: number;
  latency: Summary;
  /** sluice's CPU time during this mode's measured phases (the collector's share of the machine). */
  sluiceCpuMs: number;
}

export interface ShadowBenchResult {
  modes: ShadowModeResult[];
  /** Pairs compared in the shadow phases. */
  compared: number;
  /** Answers whose other half never reached sluice (Envoy gave up on its report). */
  unpaired: number;
  errors: string[];
}

async function setShadow(sluice: ServerHandle, service: Record<string, unknown>, mode: Mode, percent: number): Promise<void> {
  const body =
    mode === 'shadow'
      ? { ...service, shadow: { to: 'green', percent, compare: { kind: 'numeric', path: '/prediction', absolute: 0.001 } } }
      : mode === 'mirror'
        ? { ...service, mirror: { to: 'green', percent } }
        : service;
  const revision = await sluice.admin.putService('predict', body);
  const done = await sluice.admin.waitComplete(revision, 1, 20_000);
  if (!done.complete) throw new Error(`the Envoy did not apply the change to ${mode}`);
}

/** Runs the interleaved phases; exported for the benchmark's smoke test. */
export async function runShadowBench(options: { rate: number; phaseMs: number; rounds: number; percent: number; log?: (line: string) => void }): Promise<ShadowBenchResult> {
  const log = options.log ?? (() => undefined);
  const plane = await startDataPlane('sotw', 'bench-shadow');
  const { sluice, service, agent } = plane;
  try {
    const phases: Mode[] = Array.from({ length: options.rounds }, () => MODES).flat();
    const outcomes: Outcome[][] = phases.map(() => []);
    const cpuMs: number[] = phases.map(() => 0);
    const interval = 1000 / options.rate;
    for (const [index, mode] of phases.entries()) {
      await setShadow(sluice, service, mode, options.percent);
      log(`  phase ${index + 1}/${phases.length}: ${mode}`);
      // Warm the connections up (not counted).
      await new Promise<void>((resolve) => {
        let left = WARMUP;
        for (let i = 0; i < WARMUP; i++) post(agent, sluice.listenerPort, now(), -1, () => --left === 0 && resolve());
      });
      const cpuBefore = processCpuMs(sluice.pid);
      const start = now();
      const total = Math.round(options.phaseMs / interval);
      let inFlight = 0;
      for (let i = 0; i < total; i++) {
        const scheduled = start + i * interval;
        const wait = scheduled - now();
        if (wait > 1) await sleep(wait);
        inFlight++;
        post(agent, sluice.listenerPort, scheduled, index, (outcome) => {
          inFlight--;
          outcomes[index]!.push(outcome);
        });
      }
      const drainUntil = now() + 15_000;
      while (inFlight > 0 && now() < drainUntil) await sleep(10);
      cpuMs[index] = processCpuMs(sluice.pid) - cpuBefore;
    }
    // Each pair reaches sluice a little after the user's answer: at 100 % wait (bounded) until every
    // request sent in the shadow phases, warm-ups included, is accounted for — compared, or unpaired
    // once a report Envoy could not deliver has left the other half waiting 30 s; below, read what
    // has arrived.
    const sentWhileOn = phases.reduce((sum, mode, i) => sum + (mode === 'shadow' ? outcomes[i]!.length + WARMUP : 0), 0);
    const accounting = async (): Promise<{ compared: number; unpaired: number }> => {
      const report = (await sluice.admin.request('GET', '/v1/services/predict/shadow')).json;
      return {
        compared: Number(report?.samples ?? 0) + Number(report?.incomparable ?? 0),
        unpaired: Number(report?.unpaired?.userOnly ?? 0) + Number(report?.unpaired?.candidateOnly ?? 0),
      };
    };
    let pairs = await accounting();
    const pairsUntil = now() + 40_000;
    while (options.percent === 100 && pairs.compared + pairs.unpaired < sentWhileOn && now() < pairsUntil) {
      await sleep(20);
      pairs = await accounting();
    }
    const modes = MODES.map((mode) => {
      const mine = phases.flatMap((m, i) => (m === mode ? outcomes[i]! : []));
      return {
        mode,
        requests: mine.length,
        notOk: mine.filter((o) => o.status < 200 || o.status >= 300).length,
        latency: summarize(mine.map((o) => o.latencyMs)),
        sluiceCpuMs: phases.reduce((sum, m, i) => sum + (m === mode ? cpuMs[i]! : 0), 0),
      };
    });
    return { modes, ...pairs, errors: sluice.errorLines() };
  } finally {
    await plane.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['rate', 'phase-seconds', 'rounds', 'percent']);
  const options = { rate: args.number('rate', 200), phaseMs: args.number('phase-seconds', 5) * 1000, rounds: args.number('rounds', 3), percent: args.number('percent', 100) };
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const version = envoyVersion();
  log(`shadow: ${options.rate} req/s, ${options.phaseMs / 1000} s per phase, ${options.rounds} rounds of off/mirror/shadow, ${options.percent}% copied, Envoy ${version}`);
  const result = await runShadowBench({ ...options, log });
  const ms = (value: number): string => `${fmt(value, 2)} ms`;
  process.stdout.write(
    `\n${table(
      ['copies', 'requests', 'not 2xx', 'p50', 'p90', 'p99', 'max', 'sluice CPU'],
      result.modes.map((m) => [m.mode, m.requests, m.notOk, ms(m.latency.p50), ms(m.latency.p90), ms(m.latency.p99), ms(m.latency.max), `${fmt(m.sluiceCpuMs)} ms`]),
    )}\n\npairs compared by sluice in the shadow phases: ${result.compared} (unpaired: ${result.unpaired})\n`,
  );
  const path = writeResults('shadow', {
    command: `npm run bench:shadow${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    envoyVersion: version,
    options: { ...options, phaseSeconds: options.phaseMs / 1000 },
    modes: result.modes.map((m) => ({ ...m, latency: Object.fromEntries(Object.entries(m.latency).map(([k, v]) => [k, round(v, 3)])) })),
    compared: result.compared,
    unpaired: result.unpaired,
    errors: result.errors,
  });
  process.stdout.write(`results: ${path}\n`);
  if (result.modes.some((m) => m.notOk > 0)) process.exitCode = 1;
}

runMain(import.meta.url, main);
