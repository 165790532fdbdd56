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
});
