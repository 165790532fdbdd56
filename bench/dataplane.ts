// bench:dataplane — traffic at a fixed rate through a real Envoy to the demo's blue and green model
// servers (their own processes) while sluice ramps green 0 → 10 → 25 → 50 → 75 → 100 % and then
// rolls back to blue, one phase every few seconds. Open loop: requests leave on schedule whatever
// the answers, and latency counts from the scheduled time (no coordinated omission). Per phase:
// answers that were not 2xx or failed (should be 0), latency percentiles and green's share.
//
//   npm run bench:dataplane                 200 req/s, 5 s per phase (7 phases)
//   options: --rate 200 --phase-seconds 5 --mode sotw|delta

import { envoyVersion } from './lib/envoy.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { post, startDataPlane, type Outcome } from './lib/model-traffic.js';
import type { ServerHandle } from './lib/sluice-process.js';
import { Args, fmt, now, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

interface Phase {
  name: string;
  /** Green's expected share in percent. */
  green: number;
  apply(sluice: ServerHandle): Promise<number>;
}

export interface PhaseResult {
  name: string;
  expectedGreenPct: number;
  requests: number;
  ok2xx: number;
  non2xx: number;
  failed: number;
  greenPct: number;
  latency: Summary;
  /** From the change to sluice reporting the Envoy applied it. */
  appliedMs: number;
}

const PHASES: Phase[] = [
  ...[0, 10, 25, 50, 75, 100].map((green, i) => ({
    name: i === 0 ? 'blue 100 (start)' : `green ${green}`,
    green,
    apply: (sluice: ServerHandle) => sluice.admin.putWeights('predict', { blue: 100 - green, green }),
  })),
  { name: 'rollback', green: 0, apply: (sluice: ServerHandle) => sluice.admin.rollback('predict') },
];

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['rate', 'phase-seconds', 'mode']);
  const rate = args.number('rate', 200);
  const phaseMs = args.number('phase-seconds', 5) * 1000;
  const mode = (args.string('mode') ?? 'sotw') as XdsMode;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const version = envoyVersion();
  log(`dataplane: ${rate} req/s, ${phaseMs / 1000} s per phase, ${PHASES.length} phases, Envoy ${version} (${mode})`);

  const plane = await startDataPlane(mode, 'bench-dataplane');
  const { sluice, agent } = plane;
  try {
    // Warm the connections up (not counted).
    await new Promise<void>((resolve) => {
      let left = 50;
      for (let i = 0; i < 50; i++) post(agent, sluice.listenerPort, now(), -1, () => --left === 0 && resolve());
    });

    const outcomes: Outcome[] = [];
    const appliedMs: number[] = [];
    const interval = 1000 / rate;
    const start = now();
    const total = Math.round((PHASES.length * phaseMs) / interval);
    let inFlight = 0;
    let phase = -1;
    let changes = Promise.resolve();
    for (let i = 0; i < total; i++) {
      const scheduled = start + i * interval;
      const wantPhase = Math.floor((scheduled - start) / phaseMs);
      if (wantPhase !== phase) {
        phase = wantPhase;
        const current = PHASES[phase]!;
        const changeAt = now();
        const handle = sluice;
        // The change runs beside the traffic; phase 0 only sets what is already there.
        changes = changes.then(async () => {
          const revision = await current.apply(handle);
          const done = await handle.admin.waitComplete(revision, 1, 10_000);
          appliedMs[PHASES.indexOf(current)] = done.at - changeAt;
        });
        log(`  phase ${phase + 1}/${PHASES.length}: ${current.name}`);
      }
      const wait = scheduled - now();
      if (wait > 1) await sleep(wait);
      inFlight++;
      post(agent, sluice.listenerPort, scheduled, phase, (outcome) => {
        inFlight--;
        outcomes.push(outcome);
      });
    }
    await changes;
    const drainUntil = now() + 15_000;
    while (inFlight > 0 && now() < drainUntil) await sleep(10);

    const results: PhaseResult[] = PHASES.map((p, index) => {
      const mine = outcomes.filter((o) => o.phase === index);
      const ok = mine.filter((o) => o.status >= 200 && o.status < 300);
      return {
        name: p.name,
        expectedGreenPct: p.green,
        requests: mine.length,
        ok2xx: ok.length,
        non2xx: mine.filter((o) => o.status !== 0 && (o.status < 200 || o.status >= 300)).length,
        failed: mine.filter((o) => o.status === 0).length,
        greenPct: ok.length === 0 ? Number.NaN : (100 * ok.filter((o) => o.version === 'green').length) / ok.length,
        latency: summarize(mine.map((o) => o.latencyMs)),
        appliedMs: appliedMs[index] ?? Number.NaN,
      };
    });
    const failures = outcomes.filter((o) => o.status < 200 || o.status >= 300);
    process.stdout.write(
      `\n${table(
        ['phase', 'requests', 'non-2xx', 'failed', 'green % (expected)', 'p50', 'p90', 'p99', 'max', 'applied after'],
        results.map((r) => [
          r.name,
          r.requests,
          r.non2xx,
          r.failed,
          `${fmt(r.greenPct)} (${r.expectedGreenPct})`,
          `${fmt(r.latency.p50, 2)} ms`,
          `${fmt(r.latency.p90, 2)} ms`,
          `${fmt(r.latency.p99, 2)} ms`,
          `${fmt(r.latency.max, 2)} ms`,
          `${fmt(r.appliedMs)} ms`,
        ]),
      )}\n\nnon-2xx or failed answers: ${failures.length} of ${outcomes.length}; rate achieved ${fmt(outcomes.length / ((now() - start) / 1000), 0)} req/s\n`,
    );
    if (failures.length > 0) process.stdout.write(`${failures.slice(0, 5).map((f) => `  ${f.status} ${f.error ?? ''}`).join('\n')}\n`);
    const path = writeResults('dataplane', {
      command: `npm run bench:dataplane${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      envoyVersion: version,
      options: { rate, phaseSeconds: phaseMs / 1000, mode },
      nonOk: failures.length,
      requests: outcomes.length,
      phases: results.map((r) => ({
        ...r,
        greenPct: round(r.greenPct, 2),
        appliedMs: round(r.appliedMs, 2),
        latency: Object.fromEntries(Object.entries(r.latency).map(([k, v]) => [k, round(v, 3)])),
      })),
      errors: [...sluice.errorLines(), ...failures.slice(0, 10).map((f) => `${f.status} ${f.error ?? ''}`)],
    });
    process.stdout.write(`results: ${path}\n`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await plane.close();
  }
}

runMain(import.meta.url, main);
