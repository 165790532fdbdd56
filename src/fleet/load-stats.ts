// Requests and errors per cluster as the fleet's Envoys report them over LRS, kept for a bounded
// window so analyses can ask "how many requests and errors did this cluster see since t, and from
// which proxies?", and as totals since this process started (what the traffic counters expose).
// Only reports on clusters sluice serves to the reporting node arrive here (the LRS stream checks);
// what is kept is bounded per proxy and in all, and what is dropped is counted. Written only by the
// LRS stream; read by rollout analysis, metrics and the delete guard.

import type { LoadReport, LoadReportSink } from '../xds/server/lrs.js';

export interface LoadTotals {
  requests: number;
  errors: number;
}

interface Sample {
  at: number;
  nodeId: string;
  cluster: string;
  successful: number;
  errors: number;
}

/** Why a report was not kept (or, for `total-limit`, an older one was forgotten before its time). */
export type DropReason = 'unknown-cluster' | 'proxy-limit' | 'total-limit';

export const DROP_REASONS: readonly DropReason[] = ['unknown-cluster', 'proxy-limit', 'total-limit'];

export interface LoadStatsBounds {
  /** Samples kept for one proxy; its further reports are dropped until older ones leave the window. */
  samplesPerProxy: number;
  /** Samples kept in all; past it the oldest are forgotten first. */
  samples: number;
}

const DEFAULT_RETENTION_MS = 60 * 60 * 1000;

/**
 * A proxy's report on a cluster that arrives less than this after its previous sample of that
 * cluster is added to that sample: an Envoy reports every 2 s, so this never merges its reports, and
 * a client reporting faster cannot keep more than one sample per second and cluster.
 */
export const SAMPLE_SPACING_MS = 1000;

/**
 * About 70 bytes each: 1,000,000 samples in all is some 70 MB. 50,000 per proxy is an hour of
 * reports, every 2 s, on 27 clusters serving traffic at once (idle clusters keep no sample).
 */
export const DEFAULT_BOUNDS: LoadStatsBounds = { samplesPerProxy: 50_000, samples: 1_000_000 };

/** Samples in arrival order (oldest first), taken from the front in O(1). */
class SampleQueue {
  private items: Sample[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(sample: Sample): void {
    this.items.push(sample);
  }

  first(): Sample | undefined {
    return this.items[this.head];
  }

  shift(): void {
    this.items[this.head++] = undefined as unknown as Sample;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** The samples that arrived at or after `since`, oldest first. */
  *since(since: number): Generator<Sample> {
    let low = this.head;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.items[middle]!.at < since) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < this.items.length; i++) yield this.items[i]!;
  }
}

interface ProxyLoad {
  kept: number;
  /** Its newest sample per cluster, which a report arriving within SAMPLE_SPACING_MS joins. */
  latest: Map<string, Sample>;
}

export class LoadStats implements LoadReportSink {
  /** Every kept sample, oldest first: what leaves the window or the bound leaves from here. */
  private readonly samples = new SampleQueue();
  private readonly byCluster = new Map<string, SampleQueue>();
  /** Per proxy with a sample kept; a proxy leaves with its last sample. */
  private readonly proxies = new Map<string, ProxyLoad>();
  /** Requests and errors per cluster since start: one entry per served cluster ever reported. */
  private readonly sinceStart = new Map<string, LoadTotals>();
  private readonly dropped = new Map<DropReason, number>(DROP_REASONS.map((reason) => [reason, 0]));

  constructor(
    private readonly now: () => number = Date.now,
    private readonly retentionMs = DEFAULT_RETENTION_MS,
    private readonly bounds: LoadStatsBounds = DEFAULT_BOUNDS,
  ) {}

  report(reports: LoadReport[]): void {
    const at = this.now();
    this.expire(at);
    for (const report of reports) {
      const total = this.sinceStart.get(report.cluster) ?? { requests: 0, errors: 0 };
      this.sinceStart.set(report.cluster, total);
      if (report.successful === 0 && report.errors === 0) continue;
      total.requests += report.successful + report.errors;
      total.errors += report.errors;
      this.keep(at, report);
    }
  }

  /** Reports on clusters not served to their node: counted when they claim traffic (idle ones claim nothing). */
  drop(reports: LoadReport[]): void {
    const claiming = reports.filter((r) => r.successful + r.errors + r.issued > 0).length;
    this.count('unknown-cluster', claiming);
  }

  /** Whether any Envoy has reported on `cluster` yet (from then on its traffic is counted). */
  isReported(cluster: string): boolean {
    return this.sinceStart.has(cluster);
  }

  /** Completed requests and errors reported for `cluster` at or after `since` (epoch ms). */
  totals(cluster: string, since: number): LoadTotals {
    let requests = 0;
    let errors = 0;
    for (const sample of this.byCluster.get(cluster)?.since(since) ?? []) {
      requests += sample.successful + sample.errors;
      errors += sample.errors;
    }
    return { requests, errors };
  }

  /** The proxies (node ids) that reported completed requests or errors for `cluster` at or after `since`. */
  reportingNodes(cluster: string, since: number): Set<string> {
    const nodes = new Set<string>();
    for (const sample of this.byCluster.get(cluster)?.since(since) ?? []) nodes.add(sample.nodeId);
    return nodes;
  }

  /**
   * Completed requests and errors reported for `cluster` since this process started, over every
   * proxy reporting to it: they only grow (the retention window does not apply).
   */
  totalsSinceStart(cluster: string): LoadTotals {
    const total = this.sinceStart.get(cluster);
    return total ? { ...total } : { requests: 0, errors: 0 };
  }

  /** Reports dropped so far, per reason (every reason listed, from 0). */
  droppedReports(): ReadonlyMap<DropReason, number> {
    return this.dropped;
  }

  /** Samples kept now (within the window), and the proxies and clusters they belong to. */
  kept(): { samples: number; proxies: number; clusters: number } {
    this.expire(this.now());
    return { samples: this.samples.size, proxies: this.proxies.size, clusters: this.byCluster.size };
  }

  private keep(at: number, report: LoadReport): void {
    let proxy = this.proxies.get(report.nodeId);
    const latest = proxy?.latest.get(report.cluster);
    if (latest !== undefined && at - latest.at < SAMPLE_SPACING_MS) {
      latest.successful += report.successful;
      latest.errors += report.errors;
      return;
    }
    if (proxy !== undefined && proxy.kept >= this.bounds.samplesPerProxy) {
      this.count('proxy-limit', 1);
      return;
    }
    if (proxy === undefined) {
      proxy = { kept: 0, latest: new Map() };
      this.proxies.set(report.nodeId, proxy);
    }
    const sample: Sample = { at, nodeId: report.nodeId, cluster: report.cluster, successful: report.successful, errors: report.errors };
    this.samples.push(sample);
    let cluster = this.byCluster.get(report.cluster);
    if (!cluster) {
      cluster = new SampleQueue();
      this.byCluster.set(report.cluster, cluster);
    }
    cluster.push(sample);
    proxy.kept++;
    proxy.latest.set(report.cluster, sample);
    while (this.samples.size > this.bounds.samples) {
      this.forgetOldest();
      this.count('total-limit', 1);
    }
  }

  private expire(at: number): void {
    for (let oldest = this.samples.first(); oldest !== undefined && oldest.at < at - this.retentionMs; oldest = this.samples.first()) {
      this.forgetOldest();
    }
  }

  /** Takes the oldest sample out of every index (it is the oldest of its cluster too). */
  private forgetOldest(): void {
    const sample = this.samples.first();
    if (sample === undefined) return;
    this.samples.shift();
    const cluster = this.byCluster.get(sample.cluster)!;
    cluster.shift();
    if (cluster.size === 0) this.byCluster.delete(sample.cluster);
    const proxy = this.proxies.get(sample.nodeId)!;
    proxy.kept--;
    if (proxy.latest.get(sample.cluster) === sample) proxy.latest.delete(sample.cluster);
    if (proxy.kept === 0) this.proxies.delete(sample.nodeId);
  }

  private count(reason: DropReason, reports: number): void {
    if (reports > 0) this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + reports);
  }
}
