// Shared proxies over a fake share whose writes land only when the test lets them: one publish
// at a time (a report never lands older than the one before it), and stopping waits for the
// publish in flight so the report does not outlive the replica.

import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FleetStatus } from '../fleet/status.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { RevisionLedger } from './revision-ledger.js';
import { SharedProxies, type ProxyShare } from './shared-proxies.js';

/** The reports table of a database whose writes wait, while `holding`, until `land()`. */
function slowShare(): ProxyShare & { table: Map<string, unknown[]>; holding: boolean; pending: (() => void)[]; land(): void } {
  const share = {
    table: new Map<string, unknown[]>(),
    holding: false,
    pending: [] as (() => void)[],
    land(): void {
      share.pending.shift()?.();
    },
    async publishProxies(replica: string, proxies: unknown[]): Promise<void> {
      if (share.holding) await new Promise<void>((resolve) => share.pending.push(resolve));
      share.table.set(replica, proxies);
    },
    async proxiesOfOthers(replica: string): Promise<{ replica: string; proxies: unknown[] }[]> {
      return [...share.table].filter(([name]) => name !== replica).map(([name, proxies]) => ({ replica: name, proxies }));
    },
    async removeProxies(replica: string): Promise<void> {
      share.table.delete(replica);
    },
    onProxies: () => () => undefined,
  };
  return share;
}

function envoy(id: string): NodeInfo {
  return { id, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' };
}

const reported = (share: { table: Map<string, unknown[]> }): string[] | undefined =>
  (share.table.get('a') as { node: { id: string } }[] | undefined)?.map((proxy) => proxy.node.id);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SharedProxies', () => {
  it('publishes one report at a time, so the newest lands last', async () => {
    const share = slowShare();
    const fleet = new FleetStatus();
    const shared = new SharedProxies({ share, replica: 'a', fleet, ledger: new RevisionLedger(), logger: pino({ level: 'silent' }), onRemoteChange: () => undefined });
    await shared.start();
    share.holding = true;
    fleet.streamOpened(1, envoy('e1'), { kind: 'sotw', aggregated: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(share.pending).toHaveLength(1);
    fleet.streamOpened(2, envoy('e2'), { kind: 'sotw', aggregated: true });
    await vi.advanceTimersByTimeAsync(100);
    // The second waits for the first: a write that lands out of order cannot leave an older report.
    expect(share.pending).toHaveLength(1);
    share.land();
    await vi.advanceTimersByTimeAsync(0);
    expect(reported(share)).toEqual(['e1']);
    expect(share.pending).toHaveLength(1);
    share.land();
    await vi.advanceTimersByTimeAsync(0);
    expect(reported(share)).toEqual(['e1', 'e2']);
    share.holding = false;
    await shared.stop();
  });

  it('stops after the publish in flight landed, so its report does not outlive the replica', async () => {
    const share = slowShare();
    const fleet = new FleetStatus();
    const shared = new SharedProxies({ share, replica: 'a', fleet, ledger: new RevisionLedger(), logger: pino({ level: 'silent' }), onRemoteChange: () => undefined });
    await shared.start();
    expect(reported(share)).toEqual([]);
    share.holding = true;
    fleet.streamOpened(1, envoy('e1'), { kind: 'sotw', aggregated: true });
    await vi.advanceTimersByTimeAsync(100);
    expect(share.pending).toHaveLength(1);
    const stopping = shared.stop();
    share.land();
    await stopping;
    expect(share.table.has('a')).toBe(false);
  });
});
