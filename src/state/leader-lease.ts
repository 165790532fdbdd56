// Which replica leads (runs rollouts): the holder of a lease renewed in the shared store every
// third of its time to live. A replica that cannot renew stops leading before its lease can have
// expired, so two never lead at once; another takes over within one time to live. With a store
// that has no leases (SQLite: one process) this replica always leads.

export interface LeaseStore {
  tryLease?(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease?(name: string, holder: string): Promise<void>;
}

export const ROLLOUT_LEASE = 'rollouts';

export class LeaderLease {
  private leadingUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The renewal under way, if any: one at a time, however slow the store answers. */
  private renewal: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: LeaseStore,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly onChange: (leading: boolean) => void = () => undefined,
  ) {}

  isLeader(): boolean {
    return this.store.tryLease === undefined || this.now() < this.leadingUntil;
  }

  async start(): Promise<void> {
    if (this.store.tryLease === undefined) return;
    this.stopped = false;
    await this.renew();
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  /** Stops renewing and gives the lease up, after any renewal in flight (which could take it again) landed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewal;
    this.leadingUntil = 0;
    await this.store.releaseLease?.(ROLLOUT_LEASE, this.holder).catch(() => undefined);
  }

  /** Renews now, or joins the renewal under way (a tick while the store is slow adds no second one). */
  private renew(): Promise<void> {
    this.renewal ??= this.renewOnce().finally(() => {
      this.renewal = undefined;
    });
    return this.renewal;
  }

  private async renewOnce(): Promise<void> {
    const before = this.isLeader();
    // Counted from before the call: the lease cannot outlive what the database granted.
    const askedAt = this.now();
    try {
      const held = await this.store.tryLease!(ROLLOUT_LEASE, this.holder, this.ttlMs);
      if (this.stopped) return;
      this.leadingUntil = held ? askedAt + this.ttlMs : 0;
    } catch {
      // Unreachable store: keep leading only until the lease we had runs out.
    }
    if (!this.stopped && this.isLeader() !== before) this.onChange(this.isLeader());
  }
}
