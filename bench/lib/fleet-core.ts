// Many simulated Envoys in one process (a worker forked by fleet.ts, or the test process in light
// mode): connect them with bounded concurrency, mark the start of a measurement, report what each
// one saw since, drop and reconnect them all at once.

import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { NameCache, SimEnvoy, type XdsMode } from './sim-envoy.js';
import { now } from './util.js';

export interface ConnectCommand {
  address: string;
  mode: XdsMode;
  /** Node ids are `${prefix}${first + i}`. */
  prefix: string;
  first: number;
  count: number;
  /** Each client's node cluster is its own node id (a mesh of sidecars); all share `bench` otherwise. */
  ownNodeClusters?: boolean;
  /** Clients connecting at the same time (each waits until it has ACKed all four types). */
  concurrency: number;
  timeoutMs: number;
  /** Connect over TLS with this client certificate (every client its own handshake); plaintext without. */
  tls?: ClientTlsFiles;
}

/** PEM files: the CA the clients trust sluice by, and the client certificate and key they all present. */
export interface ClientTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

function credentialsOf(tls: ClientTlsFiles | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(readFileSync(tls.caFile), readFileSync(tls.keyFile), readFileSync(tls.certFile));
}

export interface ConnectResult {
  connected: number;
  failed: number;
  failures: string[];
  ms: number;
}

export interface FleetReport {
  clients: number;
  /** Monotonic ms of each client's last ACK since the mark; -1 when it ACKed nothing. */
  lastAckAt: number[];
  /** Monotonic ms of each client's first response since the mark; -1 when none came. */
  firstResponseAt: number[];
  /** Clients holding each routes version. */
  routesVersions: Record<string, number>;
  /** Clients whose routes version differs from the one they held at the mark. */
  routesChanged: number;
  synced: number;
  connected: number;
  responses: number;
  acks: number;
  errors: number;
  errorSamples: string[];
  /** CPU this process used since the previous report, in ms. */
  cpuMs: number;
}

export class FleetCore {
  private readonly sims: SimEnvoy[] = [];
  private readonly names = new NameCache();
  private cpuAt = process.cpuUsage();

  async connect(command: ConnectCommand): Promise<ConnectResult> {
    const started = now();
    const fresh: SimEnvoy[] = [];
    const credentials = credentialsOf(command.tls);
    for (let i = 0; i < command.count; i++) {
      const id = `${command.prefix}${command.first + i}`;
      fresh.push(new SimEnvoy(id, command.address, command.mode, this.names, credentials, command.ownNodeClusters ? id : undefined));
    }
    this.sims.push(...fresh);
    const failures: string[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < fresh.length) {
        const sim = fresh[next++]!;
        await sim.connect(command.timeoutMs).catch((error: Error) => failures.push(error.message));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, lane));
    return { connected: fresh.length - failures.length, failed: failures.length, failures: failures.slice(0, 5), ms: now() - started };
  }

  mark(): void {
    for (const sim of this.sims) sim.mark();
  }

  report(): FleetReport {
    const routesVersions: Record<string, number> = {};
    const errorSamples: string[] = [];
    let routesChanged = 0;
    let synced = 0;
    let connected = 0;
    let responses = 0;
    let acks = 0;
    let errors = 0;
    for (const sim of this.sims) {
      const version = sim.routesVersion();
      routesVersions[version] = (routesVersions[version] ?? 0) + 1;
      if (sim.routesChanged()) routesChanged++;
      if (sim.synced()) synced++;
      if (sim.connected()) connected++;
      responses += sim.counters.responses;
      acks += sim.counters.acks;
      errors += sim.counters.errors;
      if (sim.lastError && errorSamples.length < 5) errorSamples.push(`${sim.id}: ${sim.lastError}`);
    }
    const cpu = process.cpuUsage(this.cpuAt);
    this.cpuAt = process.cpuUsage();
    return {
      clients: this.sims.length,
      lastAckAt: this.sims.map((sim) => sim.lastAckAt),
      firstResponseAt: this.sims.map((sim) => sim.firstResponseAt),
      routesVersions,
      routesChanged,
      synced,
      connected,
      responses,
      acks,
      errors,
      errorSamples,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  /** Every client drops its stream and channel at once. */
  drop(): void {
    for (const sim of this.sims) sim.drop();
  }

  /** Every client opens a new channel and stream at once, asking for what it held. */
  reconnect(): void {
    for (const sim of this.sims) void sim.connect();
  }

  /** Every client drops its connection and opens a new one, in the same tick. */
  churn(): void {
    this.drop();
    this.reconnect();
  }

  close(): void {
    this.drop();
    this.sims.length = 0;
  }
}

/** Merges the reports of several processes into one. */
export function mergeReports(reports: readonly FleetReport[]): FleetReport {
  const merged: FleetReport = {
    clients: 0,
    lastAckAt: [],
    firstResponseAt: [],
    routesVersions: {},
    routesChanged: 0,
    synced: 0,
    connected: 0,
    responses: 0,
    acks: 0,
    errors: 0,
    errorSamples: [],
    cpuMs: 0,
  };
  for (const report of reports) {
    merged.clients += report.clients;
    merged.lastAckAt.push(...report.lastAckAt);
    merged.firstResponseAt.push(...report.firstResponseAt);
    for (const [version, count] of Object.entries(report.routesVersions)) merged.routesVersions[version] = (merged.routesVersions[version] ?? 0) + count;
    merged.routesChanged += report.routesChanged;
    merged.synced += report.synced;
    merged.connected += report.connected;
    merged.responses += report.responses;
    merged.acks += report.acks;
    merged.errors += report.errors;
    merged.errorSamples.push(...report.errorSamples.slice(0, 5 - merged.errorSamples.length));
    merged.cpuMs += report.cpuMs;
  }
  return merged;
}
