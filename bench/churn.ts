// bench:churn — N connected simulated Envoys drop their connections and reconnect all at once;
// the time until sluice reports every one of them (on its new stream) in sync again
// (GET /v1/revisions/{current}?wait=…), and the errors (stream errors, sluice error logs,
// proxies not back in sync: all must be 0). Two scenarios per round:
//   blip — drop and reconnect in the same instant; nothing changed meanwhile;
//   away — drop, a weight change while nobody is connected, then reconnect at once (every proxy
//          must fetch the new routes).
//
//   npm run bench:churn                     N = 1000, 5 rounds of each scenario, SotW and delta
//   options: --size 1000 --rounds 5 --modes sotw,delta --workers K

import { demoService, type RevisionReport } from './lib/admin-client.js';
import { startFleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { inProcessSluice, spawnSluice, type ServerHandle } from './lib/sluice-process.js';
import { Args, fmt, greenPercent, now, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

export type ChurnScenario = 'blip' | 'away';

export interface ChurnOptions {
  size: number;
  rounds: number;
  modes: XdsMode[];
  light?: boolean;
  workers?: number;
  log?: (line: string) => void;
}

export interface ChurnRound {
  mode: XdsMode;
  scenario: ChurnScenario;
  round: number;
  /** From the reconnect to sluice reporting all N proxies, on new streams, at the current revision. */
  syncMs: number;
  /** From the reconnect to the last ACK a client sent (clients' time stamps); NaN when nothing needed an ACK. */
  lastAckMs: number;
  inSync: boolean;
  errors: number;
}

export interface ChurnCase {
  mode: XdsMode;
  scenario: ChurnScenario;
  size: number;
  rounds: ChurnRound[];
  sync: Summary;
  lastAck: Summary;
  errors: number;
  errorSamples: string[];
  allInSync: boolean;
}

const maxStreamId = (report: RevisionReport): number => Math.max(0, ...report.proxies.flatMap((p) => p.streams.map((s) => s.id)));

async function runMode(mode: XdsMode, options: ChurnOptions): Promise<ChurnCase[]> {
  const log = options.log ?? (() => undefined);
  const size = options.size;
  const sluice: ServerHandle = options.light ? await inProcessSluice() : await spawnSluice();
  const rounds: ChurnRound[] = [];
  const errorSamples: string[] = [];
  try {
    await sluice.admin.putService('predict', demoService());
    const fleet = startFleet({ address: sluice.xdsAddress, mode, size, prefix: `churn-${mode}-`, light: options.light ?? false, ...(options.workers ? { workers: options.workers } : {}) });
    try {
      const connect = await fleet.connect(120_000);
      errorSamples.push(...connect.failures);
      let revision = await sluice.admin.currentRevision();
      let report = (await sluice.admin.waitComplete(revision, size, 60_000)).report;
      log(`  ${mode}: ${connect.connected} connected in ${fmt(connect.ms / 1000)} s`);
      let errorsBefore = 0;
      for (let round = 1; round <= options.rounds; round++) {
        for (const scenario of ['blip', 'away'] as const) {
          const oldStreams = maxStreamId(report);
          let t0: number;
          if (scenario === 'blip') {
            await fleet.mark();
            t0 = now();
            await fleet.churn();
          } else {
            await fleet.drop();
            const deadline = now() + 30_000;
            while ((await sluice.admin.revision(revision, 0)).proxies.length > 0 && now() < deadline) await sleep(10);
            const green = greenPercent(round);
            revision = await sluice.admin.putWeights('predict', { blue: 100 - green, green });
            await fleet.mark();
            t0 = now();
            await fleet.reconnect();
          }
          const onNewStreams = (r: RevisionReport): boolean => r.proxies.every((p) => p.streams.length > 0 && p.streams.every((s) => s.id > oldStreams));
          const done = await sluice.admin.waitComplete(revision, size, 60_000, 'wait', onNewStreams);
          report = done.report;
          const fleetReport = await fleet.report();
          const acks = fleetReport.lastAckAt.filter((at) => at >= 0).map((at) => at - t0);
          const versions = Object.entries(fleetReport.routesVersions);
          const inSync =
            done.complete &&
            versions.length === 1 &&
            versions[0]![1] === size &&
            fleetReport.connected === size &&
            (scenario === 'blip' || fleetReport.routesChanged === size);
          const errors = fleetReport.errors - errorsBefore + (inSync ? 0 : 1);
          errorsBefore = fleetReport.errors;
          if (fleetReport.errorSamples.length > 0) errorSamples.push(...fleetReport.errorSamples);
          if (!inSync) errorSamples.push(`${mode} ${scenario} round ${round}: not all ${size} proxies back in sync (${JSON.stringify(fleetReport.routesVersions)}, ${fleetReport.connected} connected, complete ${done.complete})`);
          rounds.push({ mode, scenario, round, syncMs: done.at - t0, lastAckMs: acks.length > 0 ? Math.max(...acks) : Number.NaN, inSync, errors });
          log(`  ${mode} ${scenario} round ${round}: all ${size} in sync after ${fmt(done.at - t0)} ms`);
          await sleep(200);
        }
      }
    } finally {
      await fleet.close();
    }
  } finally {
    await sluice.stop({ removeState: true });
  }
  const sluiceErrors = sluice.errorLines();
  return (['blip', 'away'] as const).map((scenario) => {
    const mine = rounds.filter((r) => r.scenario === scenario);
    return {
      mode,
      scenario,
      size,
      rounds: mine,
      sync: summarize(mine.map((r) => r.syncMs)),
      lastAck: summarize(mine.map((r) => r.lastAckMs).filter(Number.isFinite)),
      // sluice's own error logs are counted once, against the first scenario.
      errors: mine.reduce((sum, r) => sum + r.errors, 0) + (scenario === 'blip' ? sluiceErrors.length : 0),
      errorSamples: [...errorSamples, ...sluiceErrors].slice(0, 10),
      allInSync: mine.every((r) => r.inSync),
    };
  });
}

export async function runChurn(options: ChurnOptions): Promise<ChurnCase[]> {
  const cases: ChurnCase[] = [];
  for (const mode of options.modes) cases.push(...(await runMode(mode, options)));
  return cases;
}

export function churnTable(cases: readonly ChurnCase[]): string {
  return table(
    ['mode', 'scenario', 'N', 'rounds', 'in sync p50', 'max', 'last ACK p50', 'max', 'errors'],
    cases.map((c) => [c.mode, c.scenario, c.size, c.rounds.length, `${fmt(c.sync.p50)} ms`, `${fmt(c.sync.max)} ms`, `${fmt(c.lastAck.p50)} ms`, `${fmt(c.lastAck.max)} ms`, c.errors]),
  );
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['size', 'rounds', 'modes', 'workers', 'light']);
  const options: ChurnOptions = {
    size: args.number('size', 1000),
    rounds: args.number('rounds', 5),
    modes: (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[],
    light: args.flag('light'),
    ...(args.string('workers') ? { workers: args.number('workers', 1) } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  process.stderr.write(`churn: N = ${options.size}; ${options.rounds} rounds; ${options.modes.join(' and ')}\n`);
  const cases = await runChurn(options);
  process.stdout.write(`\n${churnTable(cases)}\n`);
  const samples = cases.flatMap((c) => c.errorSamples);
  if (samples.length > 0) process.stdout.write(`\nerrors:\n${[...new Set(samples)].slice(0, 10).join('\n')}\n`);
  const path = writeResults('churn', {
    command: `npm run bench:churn${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { size: options.size, rounds: options.rounds, modes: options.modes, light: options.light },
    cases: cases.map((c) => ({ ...c, rounds: c.rounds.map((r) => ({ ...r, syncMs: round(r.syncMs, 2), lastAckMs: round(r.lastAckMs, 2) })) })),
  });
  process.stdout.write(`\nresults: ${path}\n`);
  if (cases.some((c) => c.errors > 0 || !c.allInSync)) process.exitCode = 1;
}

runMain(import.meta.url, main);
