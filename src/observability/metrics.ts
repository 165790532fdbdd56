// The Prometheus metrics of one sluice process, in its own registry (never prom-client's global
// one): xDS events, snapshot builds, the state revision, convergence, admin requests and the
// default process metrics. It counts what it is told and reads the fleet and the revision at
// scrape time; it never changes what it observes.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamDenial } from '../xds/server/ads-server.js';
import type { StreamKind } from '../xds/server/callbacks.js';
import { MetricsCallbacks } from './metrics-callbacks.js';

export interface MetricsSources {
  fleet: { list(): readonly { streams: readonly { kind: StreamKind }[] }[] };
  currentRevision(): number;
}

/** Seconds: a change usually converges in milliseconds; 10 s and more is a problem. */
export const CONVERGENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class SluiceMetrics {
  readonly registry = new Registry();
  /** The stream callbacks that count xDS responses, ACKs and NACKs. */
  readonly xds: MetricsCallbacks;
  readonly convergence: Histogram;
  private readonly snapshotBuilds: Counter;
  private readonly snapshotRevision: Gauge;
  private readonly adminRequests: Counter<'route' | 'method' | 'status'>;
  private readonly deniedStreams: Counter<'stream' | 'claim'>;
  private readonly shadowComparisons: Counter<'service' | 'version' | 'outcome'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.xds = new MetricsCallbacks(this.registry);
    new Gauge({
      name: 'sluice_xds_connected_proxies',
      help: 'xDS streams connected now, by stream kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        const counts: Record<StreamKind, number> = { sotw: 0, delta: 0 };
        for (const proxy of sources.fleet.list()) for (const stream of proxy.streams) counts[stream.kind]++;
        for (const [kind, count] of Object.entries(counts)) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'sluice_state_revision',
      help: 'The current revision of the desired state.',
      registers,
      collect() {
        this.set(sources.currentRevision());
      },
    });
    this.snapshotBuilds = new Counter({
      name: 'sluice_snapshot_builds_total',
      help: 'Snapshots built from the desired state and handed to the xDS cache.',
      registers,
    });
    this.snapshotRevision = new Gauge({
      name: 'sluice_snapshot_revision',
      help: 'The revision of the desired state the newest snapshots were built from (0 before the first build).',
      registers,
    });
    this.convergence = new Histogram({
      name: 'sluice_convergence_seconds',
      help: 'Time from a revision being committed to every connected proxy having applied it.',
      buckets: CONVERGENCE_BUCKETS,
      registers,
    });
    this.adminRequests = new Counter({
      name: 'sluice_admin_requests_total',
      help: 'Admin API requests answered, by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.deniedStreams = new Counter({
      name: 'sluice_xds_denied_streams_total',
      help: 'xDS and load-report streams denied because their client certificate may not claim their node, by stream and claim.',
      labelNames: ['stream', 'claim'],
      registers,
    });
    this.shadowComparisons = new Counter({
      name: 'sluice_shadow_comparisons_total',
      help: "Shadow answers compared with the user's, by service, candidate version and outcome (agree, disagree, candidate-error, incomparable).",
      labelNames: ['service', 'version', 'outcome'],
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  snapshotBuilt(revision: number): void {
    this.snapshotBuilds.inc();
    this.snapshotRevision.set(revision);
  }

  shadowCompared(service: string, version: string, outcome: string): void {
    this.shadowComparisons.inc({ service, version, outcome });
  }

  streamDenied(denial: StreamDenial): void {
    this.deniedStreams.inc({ stream: denial.stream, claim: denial.claim });
  }

  /** `route` is the route pattern (e.g. /v1/services/:name), never the raw URL. */
  requestAnswered(route: string, method: string, status: number): void {
    this.adminRequests.inc({ route, method, status: String(status) });
  }
}
