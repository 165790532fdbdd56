// With replicas sharing a store: publishes which revision each proxy connected here has applied,
// per service too, and what it rejects (on fleet changes, debounced, and on a heartbeat; one write at a time) and reads the other
// replicas' reports (one older than `maxAgeMs`: a dead replica, ignored), so any replica sees the
// whole fleet. An unreachable store is logged and retried on the next beat. Never writes the fleet status.

import type { Logger } from 'pino';
import type { FleetStatus } from '../fleet/status.js';
import { standingOf, type HoldsView } from './proxy-report.js';
import type { RevisionLedger } from './revision-ledger.js';
import type { ReportedProxy } from './revision-status.js';

export interface ProxyShare {
  publishProxies(replica: string, proxies: unknown[]): Promise<void>;
  proxiesOfOthers(replica: string, maxAgeMs: number): Promise<{ replica: string; proxies: unknown[] }[]>;
  removeProxies(replica: string): Promise<void>;
  onProxies(listener: () => void): () => void;
}

export interface SharedProxiesOptions {
  share: ProxyShare;
  replica: string;
  fleet: FleetStatus;
  ledger: RevisionLedger;
  /** Changes held back for proxies connected here. */
  holds?: HoldsView;
  logger: Logger;
  /** Called when what other replicas report changed (e.g. to wake revision waiters). */
  onRemoteChange: () => void;
  heartbeatMs?: number;
  maxAgeMs?: number;
}

const PUBLISH_DELAY_MS = 50;

/**
 * Runs a task one call at a time: calls made while it runs coalesce into one more run after it.
 * Answers when a run that started after the call has finished. The task must not throw.
 */
class Serial {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    this.again = true;
    this.running ??= this.drain();
    return this.running;
  }

  /** Settles once no run is under way. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.again) {
      this.again = false;
      await this.task();
    }
    this.running = undefined;
  }
}

export class SharedProxies {
  private remote: ReportedProxy[] = [];
  private publishTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly stops: (() => void)[] = [];
  private stopped = false;
  /** Writes land in the order they were computed; reads replace the list in the order they were asked. */
  private readonly publishing = new Serial(() => this.publish());
  private readonly refreshing = new Serial(() => this.refresh());

  constructor(private readonly options: SharedProxiesOptions) {}

  async start(): Promise<void> {
    const { fleet, share } = this.options;
    this.stops.push(fleet.onChange(() => this.schedulePublish()));
    this.stops.push(share.onProxies(() => void this.refreshing.run()));
    this.heartbeat = setInterval(() => {
      void this.publishing.run();
      void this.refreshing.run();
    }, this.options.heartbeatMs ?? 5000);
    this.heartbeat.unref();
    await this.publishing.run();
    await this.refreshing.run();
  }

  /** Publishes once more after the ledger moved (applied revisions are computed against it). */
  ledgerChanged(): void {
    this.schedulePublish();
  }

  list(): ReportedProxy[] {
    return this.remote;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.stops.splice(0)) stop();
    clearInterval(this.heartbeat);
    clearTimeout(this.publishTimer);
    // A publish still in flight would land after the removal and outlive this replica.
    await Promise.all([this.publishing.idle(), this.refreshing.idle()]);
    await this.options.share.removeProxies(this.options.replica).catch(() => undefined);
  }

  private schedulePublish(): void {
    if (this.publishTimer || this.stopped) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      void this.publishing.run();
    }, PUBLISH_DELAY_MS);
  }

  private async publish(): Promise<void> {
    if (this.stopped) return;
    const { fleet, ledger, share, replica, holds } = this.options;
    const proxies = fleet.list().map((proxy): Omit<ReportedProxy, 'replica'> => {
      const { appliedRevision, services, rejected, held } = standingOf(proxy, ledger, holds);
      return {
        node: proxy.node,
        streams: proxy.streams.map(({ id, kind, aggregated }) => ({ id, kind, aggregated })),
        appliedRevision,
        services,
        ...(rejected.length > 0 ? { rejected } : {}),
        ...(held.length > 0 ? { held } : {}),
      };
    });
    await share.publishProxies(replica, proxies).catch((error: Error) => this.options.logger.warn({ err: error.message }, 'could not publish proxy status'));
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    const { share, replica } = this.options;
    try {
      const reports = await share.proxiesOfOthers(replica, this.options.maxAgeMs ?? 20_000);
      const next = reports.flatMap((report) => (report.proxies as Omit<ReportedProxy, 'replica'>[]).map((proxy) => ({ ...proxy, replica: report.replica })));
      if (this.stopped || JSON.stringify(next) === JSON.stringify(this.remote)) return;
      this.remote = next;
      this.options.onRemoteChange();
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'could not read other replicas’ proxy status');
    }
  }
}
