// bench:churn — N connected simulated Envoys drop their connections and reconnect all at once;
// the time until the server (sluice or the go-control-plane peer) reports every one of them (on
// its new stream) in sync again (GET /v1/revisions/{current}?wait=…), and the errors (stream
// errors, server error logs, proxies not back in sync: all must be 0). Two scenarios per round:
//   blip — drop and reconnect in the same instant; nothing changed meanwhile;
//   away — drop, a weight change while nobody is connected, then reconnect at once (every proxy
//          must fetch the new routes).
//
//   npm run bench:churn                     N = 1000, 5 rounds of each scenario, SotW and delta
//   options: --size 1000 --rounds 5 --modes sotw,delta --workers K
//            --server sluice|peer|both (both: each round on a fresh sluice, then on a fresh peer,
//            alternately; prints sluice/peer ratios. One server runs every round on one process.)

import { demoService, type RevisionReport } from './lib/admin-client.js';
import { startFleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { fmtRatio, parseServers, prepareServers, ratio, startServer } from './lib/servers.js';
import type { ServerHandle, ServerKind } from './lib/sluice-process.js';
import { Args, fmt, greenPercent, now, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

export type ChurnScenario = 'blip' | 'away';

export interface ChurnOptions {
  size: number;
  rounds: number;
  modes: XdsMode[];
  /** sluice in this process (the smoke test); the peer is always its own process. */
  light?: boolean;
  /** The servers to measure (default: sluice); with several, rounds alternate between them. */
  servers?: ServerKind[];
  workers?: number;
  log?: (line: string) => void;
}

export interface ChurnRound {
  server: ServerKind;
  mode: XdsMode;
  scenario: ChurnScenario;
  round: number;
  /** From the reconnect to the server reporting all N proxies, on new streams, at the current revision. */
  syncMs: number;
  /** From the reconnect to the last ACK a client sent (clients' time stamps); NaN when nothing needed an ACK. */
  lastAckMs: number;
  inSync: boolean;
  errors: number;
}

export interface ChurnCase {
  server: ServerKind;
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

interface RoundsRun {
  rounds: ChurnRound[];
  errorSamples: string[];
  serverErrors: string[];
}

/** The given rounds of both scenarios on one fresh server process with one fleet. */
async function runRounds(server: ServerKind, mode: XdsMode, roundNumbers: readonly number[], options: ChurnOptions): Promise<RoundsRun> {
  const log = options.log ?? (() => undefined);
  const size = options.size;
  const controlPlane: ServerHandle = await startServer(server, { light: options.light ?? false });
  const rounds: ChurnRound[] = [];
  const errorSamples: string[] = [];
  try {
    await controlPlane.admin.putService('predict', demoService());
    const fleet = startFleet({ address: controlPlane.xdsAddress, mode, size, prefix: `churn-${mode}-`, light: options.light ?? false, ...(options.workers ? { workers: options.workers } : {}) });
    try {
      const connect = await fleet.connect(120_000);
      errorSamples.push(...connect.failures);
      let revision = await controlPlane.admin.currentRevision();
      let report = (await controlPlane.admin.waitComplete(revision, size, 60_000)).report;
      log(`  ${server} ${mode}: ${connect.connected} connected in ${fmt(connect.ms / 1000)} s`);
      let errorsBefore = 0;
      for (const round of roundNumbers) {
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
            while ((await controlPlane.admin.revision(revision, 0)).proxies.length > 0 && now() < deadline) await sleep(10);
            const green = greenPercent(round);
            revision = await controlPlane.admin.putWeights('predict', { blue: 100 - green, green });
            await fleet.mark();
            t0 = now();
            await fleet.reconnect();
          }
          const onNewStreams = (r: RevisionReport): boolean => r.proxies.every((p) => p.streams.length > 0 && p.streams.every((s) => s.id > oldStreams));
          const done = await controlPlane.admin.waitComplete(revision, size, 60_000, 'wait', onNewStreams);
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
          if (!inSync) errorSamples.push(`${server} ${mode} ${scenario} round ${round}: not all ${size} proxies back in sync (${JSON.stringify(fleetReport.routesVersions)}, ${fleetReport.connected} connected, complete ${done.complete})`);
          rounds.push({ server, mode, scenario, round, syncMs: done.at - t0, lastAckMs: acks.length > 0 ? Math.max(...acks) : Number.NaN, inSync, errors });
          log(`  ${server} ${mode} ${scenario} round ${round}: all ${size} in sync after ${fmt(done.at - t0)} ms`);
          await sleep(200);
        }
      }
    } finally {
      await fleet.close();
    }
  } finally {
    await controlPlane.stop({ removeState: true });
  }
  return { rounds, errorSamples, serverErrors: controlPlane.errorLines() };
}

export async function runChurn(options: ChurnOptions): Promise<ChurnCase[]> {
  const servers = options.servers ?? ['sluice'];
  const roundNumbers = Array.from({ length: options.rounds }, (_, i) => i + 1);
  const cases: ChurnCase[] = [];
  for (const mode of options.modes) {
    const runs = new Map<ServerKind, RoundsRun[]>(servers.map((server) => [server, []]));
    if (servers.length === 1) runs.get(servers[0]!)!.push(await runRounds(servers[0]!, mode, roundNumbers, options));
    else for (const round of roundNumbers) for (const server of servers) runs.get(server)!.push(await runRounds(server, mode, [round], options));
    for (const server of servers) {
      const done = runs.get(server)!;
      const serverErrors = done.flatMap((run) => run.serverErrors);
      const errorSamples = [...done.flatMap((run) => run.errorSamples), ...serverErrors].slice(0, 10);
      for (const scenario of ['blip', 'away'] as const) {
        const mine = done.flatMap((run) => run.rounds).filter((r) => r.scenario === scenario);
        cases.push({
          server,
          mode,
          scenario,
          size: options.size,
          rounds: mine,
          sync: summarize(mine.map((r) => r.syncMs)),
          lastAck: summarize(mine.map((r) => r.lastAckMs).filter(Number.isFinite)),
          // The server's own error logs are counted once, against the first scenario.
          errors: mine.reduce((sum, r) => sum + r.errors, 0) + (scenario === 'blip' ? serverErrors.length : 0),
          errorSamples,
          allInSync: mine.every((r) => r.inSync),
        });
      }
    }
  }
  return cases;
}

export interface ChurnRatio {
  mode: XdsMode;
  scenario: ChurnScenario;
  /** sluice's figure over the peer's (below 1: sluice took less). */
  syncP50: number;
  syncMax: number;
  lastAckP50: number;
}

export function churnRatios(cases: readonly ChurnCase[]): ChurnRatio[] {
  return cases.flatMap((sluice) => {
    const peer = cases.find((c) => c.server === 'peer' && c.mode === sluice.mode && c.scenario === sluice.scenario);
    if (sluice.server !== 'sluice' || !peer) return [];
    return [
      {
        mode: sluice.mode,
        scenario: sluice.scenario,
        syncP50: ratio(sluice.sync.p50, peer.sync.p50),
        syncMax: ratio(sluice.sync.max, peer.sync.max),
        lastAckP50: ratio(sluice.lastAck.p50, peer.lastAck.p50),
      },
    ];
  });
}

export function churnTable(cases: readonly ChurnCase[]): string {
  return table(
    ['server', 'mode', 'scenario', 'N', 'rounds', 'in sync p50', 'max', 'last ACK p50', 'max', 'errors'],
    cases.map((c) => [c.server, c.mode, c.scenario, c.size, c.rounds.length, `${fmt(c.sync.p50)} ms`, `${fmt(c.sync.max)} ms`, `${fmt(c.lastAck.p50)} ms`, `${fmt(c.lastAck.max)} ms`, c.errors]),
  );
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['size', 'rounds', 'modes', 'workers', 'light', 'server']);
  const servers = parseServers(args.string('server'));
  const options: ChurnOptions = {
    servers,
    size: args.number('size', 1000),
    rounds: args.number('rounds', 5),
    modes: (args.string('modes') ?? 'sotw,delta').split(',') as XdsMode[],
    light: args.flag('light'),
    ...(args.string('workers') ? { workers: args.number('workers', 1) } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  process.stderr.write(`churn: ${servers.join(' and ')}; N = ${options.size}; ${options.rounds} rounds; ${options.modes.join(' and ')}\n`);
  prepareServers(servers, options.log!);
  const cases = await runChurn(options);
  process.stdout.write(`\n${churnTable(cases)}\n`);
  const ratios = churnRatios(cases);
  if (ratios.length > 0) {
    const rows = ratios.map((r) => [r.mode, r.scenario, fmtRatio(r.syncP50), fmtRatio(r.syncMax), fmtRatio(r.lastAckP50)]);
    process.stdout.write(`\n${table(['sluice / peer', 'scenario', 'in sync p50', 'in sync max', 'last ACK p50'], rows)}\n`);
  }
  const samples = cases.flatMap((c) => c.errorSamples);
  if (samples.length > 0) process.stdout.write(`\nerrors:\n${[...new Set(samples)].slice(0, 10).join('\n')}\n`);
  const path = writeResults('churn', {
    command: `npm run bench:churn${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { servers, size: options.size, rounds: options.rounds, modes: options.modes, light: options.light },
    cases: cases.map((c) => ({ ...c, rounds: c.rounds.map((r) => ({ ...r, syncMs: round(r.syncMs, 2), lastAckMs: round(r.lastAckMs, 2) })) })),
    ratios: ratios.map((r) => ({ ...r, syncP50: round(r.syncP50, 3), syncMax: round(r.syncMax, 3), lastAckP50: round(r.lastAckP50, 3) })),
  });
  process.stdout.write(`\nresults: ${path}\n`);
  if (cases.some((c) => c.errors > 0 || !c.allInSync)) process.exitCode = 1;
}

runMain(import.meta.url, main);
