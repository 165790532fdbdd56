// bench:xds-tls — the price of mutual TLS on the xDS port: N simulated Envoys connect to a spawned
// sluice (each on its own connection, so its own handshake), then drop and reconnect all at once
// (a reconnect storm, as after a network blip), plaintext and then over mutual TLS with client
// certificates (made with openssl at run time). Reports the time until sluice reports every
// proxy in sync on its new stream, and the errors (stream errors, sluice error logs: all must be 0).
//
//   npm run bench:xds-tls                  N = 1000, 5 storms per transport
//   options: --size 1000 --rounds 5 --workers K

import { createTestPki } from '../test/support/test-pki.js';
import type { RevisionReport } from './lib/admin-client.js';
import { demoService } from './lib/admin-client.js';
import type { ClientTlsFiles } from './lib/fleet-core.js';
import { startFleet } from './lib/fleet.js';
import { spawnSluice } from './lib/sluice-process.js';
import { Args, fmt, now, round, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

export type Transport = 'plaintext' | 'mtls';

export interface TransportCase {
  transport: Transport;
  size: number;
  /** Connecting all N fresh clients (100 at a time per worker), until each has ACKed all four types. */
  connectMs: number;
  /** Per storm: from the reconnect to sluice reporting all N in sync on new streams. */
  stormMs: number[];
  storm: Summary;
  errors: number;
  errorSamples: string[];
}

const SERVER_ENV = ['SLUICE_XDS_TLS_CERT', 'SLUICE_XDS_TLS_KEY', 'SLUICE_XDS_CLIENT_CA'] as const;
const maxStreamId = (report: RevisionReport): number => Math.max(0, ...report.proxies.flatMap((p) => p.streams.map((s) => s.id)));

/** How the simulated Envoys run: forked workers (`workers` of them, or the default), or `light` in this process. */
interface FleetPlacement {
  workers?: number;
  light?: boolean;
}

async function runTransport(transport: Transport, size: number, rounds: number, placement: FleetPlacement, log: (line: string) => void): Promise<TransportCase> {
  const pki = transport === 'mtls' ? createTestPki() : undefined;
  let tls: ClientTlsFiles | undefined;
  // The spawned sluice inherits this process's environment: its TLS settings go there.
  for (const name of SERVER_ENV) delete process.env[name];
  if (pki) {
    const server = pki.server('server');
    // The simulated Envoys' node cluster is `bench`: without an identity policy, the identity must be `bench`.
    const client = pki.client('bench', { commonName: 'bench' });
    process.env['SLUICE_XDS_TLS_CERT'] = server.certFile;
    process.env['SLUICE_XDS_TLS_KEY'] = server.keyFile;
    process.env['SLUICE_XDS_CLIENT_CA'] = pki.caFile;
    tls = { caFile: pki.caFile, certFile: client.certFile, keyFile: client.keyFile };
  }
  const sluice = await spawnSluice();
  const errorSamples: string[] = [];
  const stormMs: number[] = [];
  let errors = 0;
  let connectMs = Number.NaN;
  try {
    await sluice.admin.putService('predict', demoService());
    const fleet = startFleet({ address: sluice.xdsAddress, mode: 'sotw', size, prefix: `${transport}-`, ...(tls ? { tls } : {}), ...placement });
    try {
      const connect = await fleet.connect(120_000);
      connectMs = connect.ms;
      errors += connect.failed;
      errorSamples.push(...connect.failures);
      const revision = await sluice.admin.currentRevision();
      let report = (await sluice.admin.waitComplete(revision, size, 60_000)).report;
      log(`  ${transport}: ${connect.connected} connected in ${fmt(connect.ms / 1000)} s`);
      let errorsBefore = 0;
      for (let storm = 1; storm <= rounds; storm++) {
        const oldStreams = maxStreamId(report);
        await fleet.mark();
        const t0 = now();
        await fleet.churn();
        const onNewStreams = (r: RevisionReport): boolean => r.proxies.every((p) => p.streams.length > 0 && p.streams.every((s) => s.id > oldStreams));
        const done = await sluice.admin.waitComplete(revision, size, 60_000, 'wait', onNewStreams);
        report = done.report;
        const fleetReport = await fleet.report();
        errors += fleetReport.errors - errorsBefore + (done.complete ? 0 : 1);
        errorsBefore = fleetReport.errors;
        errorSamples.push(...fleetReport.errorSamples);
        if (!done.complete) errorSamples.push(`${transport} storm ${storm}: not all ${size} proxies back in sync within 60 s`);
        stormMs.push(done.at - t0);
        log(`  ${transport} storm ${storm}: all ${size} in sync after ${fmt(done.at - t0)} ms`);
        await sleep(200);
      }
    } finally {
      await fleet.close();
    }
  } finally {
    await sluice.stop({ removeState: true });
    for (const name of SERVER_ENV) delete process.env[name];
    pki?.remove();
  }
  const sluiceErrors = sluice.errorLines();
  return {
    transport,
    size,
    connectMs,
    stormMs,
    storm: summarize(stormMs),
    errors: errors + sluiceErrors.length,
    errorSamples: [...new Set([...errorSamples, ...sluiceErrors])].slice(0, 10),
  };
}

export interface XdsTlsOptions extends FleetPlacement {
  size: number;
  rounds: number;
  log?: (line: string) => void;
}

/** Both transports, plaintext first, at `size` simulated Envoys and `rounds` reconnect storms each. */
export async function runXdsTls(options: XdsTlsOptions): Promise<TransportCase[]> {
  const log = options.log ?? ((): void => undefined);
  const cases: TransportCase[] = [];
  const placement: FleetPlacement = { ...(options.workers === undefined ? {} : { workers: options.workers }), ...(options.light ? { light: true } : {}) };
  for (const transport of ['plaintext', 'mtls'] as const) cases.push(await runTransport(transport, options.size, options.rounds, placement, log));
  return cases;
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['size', 'rounds', 'workers']);
  const size = args.number('size', 1000);
  const rounds = args.number('rounds', 5);
  const workers = args.string('workers') ? args.number('workers', 1) : undefined;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`xds-tls: N = ${size}; ${rounds} reconnect storms per transport (SotW)`);
  const cases = await runXdsTls({ size, rounds, log, ...(workers === undefined ? {} : { workers }) });
  process.stdout.write(
    `\n${table(
      ['transport', 'N', 'connect', 'storms', 'in sync p50', 'max', 'errors'],
      cases.map((c) => [c.transport, c.size, `${fmt(c.connectMs)} ms`, c.stormMs.length, `${fmt(c.storm.p50)} ms`, `${fmt(c.storm.max)} ms`, c.errors]),
    )}\n`,
  );
  const samples = cases.flatMap((c) => c.errorSamples);
  if (samples.length > 0) process.stdout.write(`\nerrors:\n${samples.join('\n')}\n`);
  const path = writeResults('xds-tls', {
    command: `npm run bench:xds-tls${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    options: { size, rounds },
    cases: cases.map((c) => ({ ...c, connectMs: round(c.connectMs, 1), stormMs: c.stormMs.map((ms) => round(ms, 1)) })),
  });
  process.stdout.write(`\nresults: ${path}\n`);
  if (cases.some((c) => c.errors > 0)) process.exitCode = 1;
}

runMain(import.meta.url, main);
