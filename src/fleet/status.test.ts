import { describe, expect, it } from 'vitest';
import { CLUSTER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { FleetStatus } from './status.js';

const node = (id: string) => ({ id, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('FleetStatus', () => {
  it('merges a node’s streams and tells listeners once per event-loop turn, however many ACKs came', async () => {
    const fleet = new FleetStatus();
    let calls = 0;
    fleet.onChange(() => calls++);
    for (let i = 0; i < 1000; i++) {
      fleet.streamOpened(i, node(`n${i}`), { kind: 'sotw', aggregated: true });
      fleet.acked(i, ROUTE_TYPE, 'v1');
    }
    expect(calls).toBe(0);
    await nextTurn();
    expect(calls).toBe(1);
    fleet.streamOpened(5000, node('per-type'), { kind: 'sotw', aggregated: false });
    fleet.streamOpened(5001, node('per-type'), { kind: 'sotw', aggregated: false });
    fleet.acked(5000, CLUSTER_TYPE, 'c1');
    fleet.nacked(5001, ROUTE_TYPE, 'r2', 'bad route');
    await nextTurn();
    expect(calls).toBe(2);
    const merged = fleet.list().find((p) => p.node.id === 'per-type')!;
    expect(merged.streams.map((s) => s.id)).toEqual([5000, 5001]);
    expect(merged.types[CLUSTER_TYPE]?.ackedVersion).toBe('c1');
    expect(merged.types[ROUTE_TYPE]?.lastNack?.message).toBe('bad route');
    expect(fleet.counters.nacks).toBe(1);
  });

  it('hands out views that never change, rebuilt only for the nodes that changed', () => {
    const fleet = new FleetStatus();
    const changed: string[] = [];
    fleet.onNodeChange((id) => changed.push(id));
    fleet.streamOpened(1, node('a'), { kind: 'sotw', aggregated: true });
    fleet.streamOpened(2, node('b'), { kind: 'delta', aggregated: true });
    fleet.acked(1, ROUTE_TYPE, 'r1');
    const before = fleet.list();
    const [a, b] = before;
    expect(fleet.list()).toBe(before);
    fleet.acked(1, ROUTE_TYPE, 'r2');
    fleet.responseSent(2, CLUSTER_TYPE, 'c1');
    const after = fleet.list();
    expect(after).not.toBe(before);
    // The old view still says what was true when it was handed out.
    expect(a!.types[ROUTE_TYPE]?.ackedVersion).toBe('r1');
    expect(after[0]!.types[ROUTE_TYPE]?.ackedVersion).toBe('r2');
    expect(after[1]!.types[CLUSTER_TYPE]?.sentVersion).toBe('c1');
    expect(b!.types[CLUSTER_TYPE]).toBeUndefined();
    expect(fleet.proxy('a')).toBe(after[0]);
    // What was sent is no news for those waiting on ACKs: no node change is told for it.
    expect(changed).toEqual(['a', 'b', 'a', 'a']);
    fleet.streamClosed(1);
    expect(fleet.proxy('a')).toBeUndefined();
    expect(fleet.list().map((p) => p.node.id)).toEqual(['b']);
    expect(changed.at(-1)).toBe('a');
  });

  it('builds a type’s status once until that type changes: what was sent, ACKed or NACKed shows at once', () => {
    let now = Date.UTC(2026, 0, 1);
    const fleet = new FleetStatus(() => now);
    fleet.streamOpened(1, node('a'), { kind: 'sotw', aggregated: true });
    fleet.acked(1, CLUSTER_TYPE, 'c1');
    fleet.acked(1, ROUTE_TYPE, 'r1');
    const first = fleet.proxy('a')!;
    now += 7;
    fleet.acked(1, ROUTE_TYPE, 'r2');
    const second = fleet.proxy('a')!;
    // A view rebuilt for the routes' ACK keeps the clusters' status object, and shows the new ACK.
    expect(second.types[CLUSTER_TYPE]).toBe(first.types[CLUSTER_TYPE]);
    expect(second.types[ROUTE_TYPE]).toEqual({ ackedVersion: 'r2', ackedAt: '2026-01-01T00:00:00.007Z' });
    now += 1;
    fleet.responseSent(1, CLUSTER_TYPE, 'c2');
    const sent = fleet.proxy('a')!;
    expect(sent.types[CLUSTER_TYPE]).toEqual({ sentVersion: 'c2', sentAt: '2026-01-01T00:00:00.008Z', ackedVersion: 'c1', ackedAt: '2026-01-01T00:00:00.000Z' });
    expect(sent.types[ROUTE_TYPE]).toBe(second.types[ROUTE_TYPE]);
    fleet.nacked(1, CLUSTER_TYPE, 'c2', 'bad cluster');
    expect(fleet.proxy('a')!.types[CLUSTER_TYPE]?.lastNack).toEqual({ version: 'c2', message: 'bad cluster', at: '2026-01-01T00:00:00.008Z' });
    // Views handed out earlier still say what was true then.
    expect(first.types[ROUTE_TYPE]?.ackedVersion).toBe('r1');
    expect(sent.types[CLUSTER_TYPE]?.lastNack).toBeUndefined();
  });

  it('writes each time as the instant it happened, also when many share a millisecond', () => {
    let now = Date.UTC(2026, 0, 1);
    const fleet = new FleetStatus(() => now);
    fleet.streamOpened(1, node('a'), { kind: 'sotw', aggregated: true });
    fleet.streamOpened(2, node('b'), { kind: 'sotw', aggregated: true });
    fleet.responseSent(1, ROUTE_TYPE, 'r1');
    fleet.acked(1, ROUTE_TYPE, 'r1');
    now += 1;
    fleet.acked(2, ROUTE_TYPE, 'r1');
    now += 1500;
    fleet.nacked(2, CLUSTER_TYPE, 'c2', 'bad cluster');
    const [a, b] = fleet.list();
    expect(a!.types[ROUTE_TYPE]).toMatchObject({ sentAt: '2026-01-01T00:00:00.000Z', ackedAt: '2026-01-01T00:00:00.000Z' });
    expect(b!.types[ROUTE_TYPE]?.ackedAt).toBe('2026-01-01T00:00:00.001Z');
    expect(b!.types[CLUSTER_TYPE]?.lastNack?.at).toBe('2026-01-01T00:00:01.501Z');
  });
});
