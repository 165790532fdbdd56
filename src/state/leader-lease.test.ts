import { describe, expect, it } from 'vitest';
import { LeaderLease, type LeaseStore } from './leader-lease.js';

/** A lease table with one clock, as the database keeps it. */
function fakeLeases(now: () => number): LeaseStore & { holder?: string; expires: number; down: boolean } {
  const table = {
    holder: undefined as string | undefined,
    expires: 0,
    down: false,
    async tryLease(_name: string, holder: string, ttlMs: number): Promise<boolean> {
      if (table.down) throw new Error('database unreachable');
      if (table.holder === holder || now() >= table.expires) {
        table.holder = holder;
        table.expires = now() + ttlMs;
        return true;
      }
      return false;
    },
    async releaseLease(_name: string, holder: string): Promise<void> {
      if (table.holder === holder) table.expires = 0;
    },
  };
  return table;
}

describe('LeaderLease', () => {
  it('lets one replica lead, and another take over only after the lease ran out', async () => {
    let now = 0;
    const leases = fakeLeases(() => now);
    const a = new LeaderLease(leases, 'a', 1000, () => now);
    const b = new LeaderLease(leases, 'b', 1000, () => now);
    await a.start();
    await b.start();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);

    // a's database goes away: it stops leading when its own lease would run out, not later.
    leases.down = true;
    now = 999;
    expect(a.isLeader()).toBe(true);
    now = 1000;
    expect(a.isLeader()).toBe(false);
    leases.down = false;
    await (b as unknown as { renew(): Promise<void> }).renew();
    expect(b.isLeader()).toBe(true);
    await a.stop();
    await b.stop();
  });

  it('hands over at once when the leader stops cleanly', async () => {
    let now = 0;
    const leases = fakeLeases(() => now);
    const a = new LeaderLease(leases, 'a', 60_000, () => now);
    const b = new LeaderLease(leases, 'b', 60_000, () => now);
    await a.start();
    await b.start();
    expect(b.isLeader()).toBe(false);
    await a.stop();
    await (b as unknown as { renew(): Promise<void> }).renew();
    expect(b.isLeader()).toBe(true);
    await b.stop();
  });

  it('stops cleanly while a renewal is in flight: it lands first, then the lease is given up', async () => {
    const now = 0;
    const leases = fakeLeases(() => now);
    let open = (): void => undefined;
    let gate: Promise<void> | undefined;
    // A slow database: the renewal reaches it only once the gate opens.
    const slow: LeaseStore = {
      tryLease: async (name, holder, ttlMs) => {
        await gate;
        return leases.tryLease!(name, holder, ttlMs);
      },
      releaseLease: (name, holder) => leases.releaseLease!(name, holder),
    };
    const changes: boolean[] = [];
    const a = new LeaderLease(slow, 'a', 1000, () => now, (leading) => changes.push(leading));
    await a.start();
    gate = new Promise((resolve) => (open = resolve));
    const renewing = (a as unknown as { renew(): Promise<void> }).renew();
    const stopping = a.stop();
    open();
    await Promise.all([renewing, stopping]);
    expect(a.isLeader()).toBe(false);
    // Released after the renewal landed, so another replica can take over at once.
    expect(leases.expires).toBe(0);
    expect(changes).toEqual([true]);
  });

  it('always leads without a lease store (one process)', async () => {
    const alone = new LeaderLease({}, 'x', 1000);
    await alone.start();
    expect(alone.isLeader()).toBe(true);
    await alone.stop();
  });
});
