// Which connected proxies have applied a desired-state revision, and waiting until all have: the
// logic behind `GET /v1/revisions/{n}`. Reads the fleet status, the revision ledger and (with
// replicas) the other replicas' reports, and writes none; a proxy has applied n when the newest
// revision it fully ACKed is n or later — or, asked for one service, when it holds that service
// as of n or later (what it rejects of other services and listeners does not count; a proxy that
// never held the service is not waited for).

import { SluiceError } from '../errors.js';
import type { FleetStatus, ProxyStatus } from '../fleet/status.js';
import type { HeldUnit, Rejection, RevisionProxy, RevisionReport } from '../api/fleet.js';
import { FleetProgress } from './fleet-progress.js';
import { appliedRevisionOf, rejectionsOf, serviceAppliedRevisionOf, type HoldsView } from './proxy-report.js';
import type { RevisionLedger } from './revision-ledger.js';

/** A proxy connected to another replica, as that replica reports it. */
export interface ReportedProxy {
  replica: string;
  node: { id: string; cluster: string };
  streams: RevisionProxy['streams'];
  appliedRevision: number | null;
  /** Per service, the newest revision the proxy holds it as of (absent from replicas that do not say). */
  services?: Record<string, number | null>;
  rejected?: Rejection[];
  held?: HeldUnit[];
}

/**
 * Whether a proxy is waited for: always for the whole state; for one service, once it has held that
 * service as of some revision. A proxy that never has (still making its first sync, or a client
 * that never ACKs) is reported but cannot keep a service's revision, and so a rollout, waiting.
 */
export function waitedFor(appliedRevision: number | null, service: string | undefined): boolean {
  return service === undefined || appliedRevision !== null;
}

/** The report's entry for a proxy: applied or not, and marked when it is not waited for. */
function appliedEntry(appliedRevision: number | null, revision: number, service: string | undefined): Pick<RevisionProxy, 'appliedRevision' | 'applied' | 'neverHeld'> {
  return {
    appliedRevision,
    applied: appliedRevision !== null && appliedRevision >= revision,
    ...(waitedFor(appliedRevision, service) ? {} : { neverHeld: true as const }),
  };
}

export const NO_PROXY_NOTE = 'No proxy is connected; complete is trivially true.';

export class RevisionStatus {
  private readonly listeners = new Set<() => void>();
  private readonly progress: FleetProgress;

  constructor(
    private readonly fleet: FleetStatus,
    private readonly ledger: RevisionLedger,
    private readonly currentRevision: () => number,
    /** Proxies connected to other replicas, as they report them (a shared store). */
    private readonly remote: { list(): ReportedProxy[] } = { list: () => [] },
    private readonly holds?: HoldsView,
  ) {
    this.progress = new FleetProgress(fleet, ledger, (proxy) => appliedRevisionOf(proxy, ledger, holds), holds);
  }

  private applied(proxy: ProxyStatus, service: string | undefined): number | null {
    return service === undefined ? appliedRevisionOf(proxy, this.ledger, this.holds) : serviceAppliedRevisionOf(proxy, this.ledger, service, this.holds);
  }

  /**
   * Where every connected proxy stands on `revision` (for one `service`, or the whole state);
   * SLUICE_REVISION_NOT_FOUND past the current one.
   */
  report(revision: number, service?: string): RevisionReport {
    const current = this.existing(revision);
    const local = this.fleet.list().map((proxy): RevisionProxy => {
      const appliedRevision = this.applied(proxy, service);
      const rejected = rejectionsOf(proxy, this.ledger, this.holds);
      const held = this.holds?.heldFor(proxy.node.id) ?? [];
      return {
        node: proxy.node,
        streams: proxy.streams.map(({ id, kind, aggregated }) => ({ id, kind, aggregated })),
        ...appliedEntry(appliedRevision, revision, service),
        ...(rejected.length > 0 ? { rejected } : {}),
        ...(held.length > 0 ? { held } : {}),
      };
    });
    const remote = this.remote.list().map((proxy): RevisionProxy => {
      const appliedRevision = remoteApplied(proxy, service);
      return {
        replica: proxy.replica,
        node: proxy.node,
        streams: proxy.streams,
        ...appliedEntry(appliedRevision, revision, service),
        ...(proxy.rejected && proxy.rejected.length > 0 ? { rejected: proxy.rejected } : {}),
        ...(proxy.held && proxy.held.length > 0 ? { held: proxy.held } : {}),
      };
    });
    const proxies = [...local, ...remote];
    const report = { revision, ...(service === undefined ? {} : { service }), current, complete: proxies.every((proxy) => proxy.applied || proxy.neverHeld === true), proxies };
    return proxies.length === 0 ? { ...report, note: NO_PROXY_NOTE } : report;
  }

  /** The current revision; SLUICE_REVISION_NOT_FOUND when `revision` is past it. */
  private existing(revision: number): number {
    const current = this.currentRevision();
    if (revision > current) {
      throw new SluiceError('SLUICE_REVISION_NOT_FOUND', `Revision ${revision} does not exist; the current revision is ${current}.`);
    }
    return current;
  }

  /**
   * The report once `revision` is complete, once `timeoutMs` has passed or once `signal` aborts,
   * whichever comes first. Wakes only on fleet and ledger changes; every listener and timer is
   * removed when it settles.
   */
  async wait(revision: number, timeoutMs: number, signal?: AbortSignal, service?: string): Promise<RevisionReport> {
    this.existing(revision);
    // The whole report (every proxy) is built once, when the wait ends: not also to learn it must wait.
    if (timeoutMs <= 0 || signal?.aborted || this.fleetRevision(service).applied >= revision) return this.report(revision, service);
    return new Promise((resolve) => {
      const finish = (): void => {
        stopListening();
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        resolve(this.report(revision, service));
      };
      const stopListening = this.onChange(() => {
        if (this.fleetRevision(service).applied >= revision) finish();
      });
      const timer = setTimeout(finish, timeoutMs);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  /**
   * How far the fleet has come: the newest revision every connected proxy waited for has applied
   * (of one `service`, or the whole state; 0 while one has applied none; the current revision when
   * none is connected or waited for).
   */
  fleetRevision(service?: string): { connected: number; applied: number } {
    const remote = this.remote.list();
    let applied = this.currentRevision();
    const count = (revision: number | null): void => {
      if (waitedFor(revision, service)) applied = Math.min(applied, revision ?? 0);
    };
    let connected = remote.length;
    if (service === undefined) {
      // Every proxy is waited for on the whole state: the index keeps the lowest up to date.
      const local = this.progress.lowest();
      connected += local.connected;
      if (local.applied !== undefined) applied = Math.min(applied, local.applied);
    } else {
      const proxies = this.fleet.list();
      connected += proxies.length;
      for (const proxy of proxies) count(this.applied(proxy, service));
    }
    for (const proxy of remote) count(remoteApplied(proxy, service));
    return { connected, applied };
  }

  /** Calls `listener` after every fleet change and every `ledgerChanged()`; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    const stopFleet = this.fleet.onChange(listener);
    this.listeners.add(listener);
    return () => {
      stopFleet();
      this.listeners.delete(listener);
    };
  }

  /** To be called when other replicas' proxies changed. */
  remoteChanged(): void {
    for (const listener of this.listeners) listener();
  }

  /**
   * To be called after the ledger recorded a revision. A revision whose snapshot versions equal
   * the previous one's makes no proxy ACK anything, so only this wakes its waiters.
   */
  ledgerChanged(): void {
    for (const listener of this.listeners) listener();
  }
}

/** A remote proxy's applied revision, of one service when its replica says (else of the whole state). */
function remoteApplied(proxy: ReportedProxy, service: string | undefined): number | null {
  if (service !== undefined && proxy.services && Object.hasOwn(proxy.services, service)) return proxy.services[service] ?? null;
  return proxy.appliedRevision;
}
