// Measures convergence: the time from a revision being committed to every connected proxy having
// applied it, observed once per revision. Reads how far the fleet has come through an interface;
// it never changes the fleet or the state.

/** How far the connected fleet has come (see RevisionStatus.fleetRevision). */
export interface FleetProgress {
  fleetRevision(): { connected: number; applied: number };
  /** Calls `listener` whenever the fleet or the revision ledger changed; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** Revisions waiting longer are forgotten unobserved (e.g. while a proxy NACKs everything). */
export const MAX_PENDING = 1000;

export class ConvergenceTracker {
  /** Commit time per revision not yet applied everywhere, in ascending revision order. */
  private readonly committedAt = new Map<number, number>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly fleet: FleetProgress,
    private readonly histogram: { observe(seconds: number): void },
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    this.unsubscribe = this.fleet.onChange(() => this.check());
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** To be called when a revision is committed. */
  committed(revision: number): void {
    this.committedAt.set(revision, this.now());
    if (this.committedAt.size > MAX_PENDING) {
      const [oldest] = this.committedAt.keys();
      if (oldest !== undefined) this.committedAt.delete(oldest);
    }
    this.check();
  }

  /**
   * Observes every pending revision the whole fleet has now applied. With no proxy connected a
   * revision is complete without having gone anywhere: it is dropped, not observed as 0 s.
   */
  private check(): void {
    if (this.committedAt.size === 0) return;
    const { connected, applied } = this.fleet.fleetRevision();
    for (const [revision, at] of this.committedAt) {
      if (revision > applied) break;
      if (connected > 0) this.histogram.observe((this.now() - at) / 1000);
      this.committedAt.delete(revision);
    }
  }
}
