// The demo's narration: the lines made from commits (weights with their actor and revision,
// promote, rollback, each rollout decision, anything else by its summary) and from fleet events
// (connect, NACK once with Envoy's message, disconnect), and the wiring to a real store and fleet
// status telling commits in order.

import { describe, expect, it } from 'vitest';
import { FleetStatus } from '../src/fleet/status.js';
import type { DesiredState, Service } from '../src/model/types.js';
import type { StoreChange } from '../src/state/changes.js';
import { SqliteAdapter } from '../src/state/sqlite-adapter.js';
import type { AuditEntry } from '../src/state/state-adapter.js';
import { Store } from '../src/state/store.js';
import { ROUTE_TYPE } from '../src/xds/type-urls.js';
import { INITIAL_STATE, predictBody } from '../test/admin/harness.js';
import { FleetNarrator, commitLines, narrate } from './narrator.js';

function stateWith(revision: number, weights: Record<string, number>, stable = 'blue'): DesiredState {
  const service = { ...(predictBody() as unknown as Service), name: 'predict', weights, stable };
  return { ...INITIAL_STATE, revision, services: { predict: service } };
}

function entry(revision: number, change: StoreChange, summary = 'a summary', actor = 'alice'): AuditEntry {
  return { revision, actor, at: '2026-01-01T00:00:00.000Z', change, summary };
}

describe('commit lines', () => {
  it('tells a weights change with every version, its actor and revision', () => {
    const lines = commitLines(
      entry(4, { kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } }),
      stateWith(3, { blue: 90, green: 10 }),
      stateWith(4, { blue: 50, green: 50 }),
    );
    expect(lines).toEqual(['weights predict: blue 90 → 50, green 10 → 50 (by alice, revision 4)']);
  });

  it('tells promote and rollback with the stable version and the weights they moved', () => {
    expect(
      commitLines(entry(5, { kind: 'promote', name: 'predict', version: 'green' }, '', 'bob'), stateWith(4, { blue: 50, green: 50 }), stateWith(5, { blue: 0, green: 100 }, 'green')),
    ).toEqual(['promote predict: green is stable; blue 50 → 0, green 50 → 100 (by bob, revision 5)']);
    expect(commitLines(entry(6, { kind: 'rollback', name: 'predict' }), stateWith(5, { blue: 0, green: 100 }), stateWith(6, { blue: 100, green: 0 }))).toEqual([
      'rollback predict: all traffic back to stable blue; blue 0 → 100, green 100 → 0 (by alice, revision 6)',
    ]);
  });

  it('tells each rollout decision of a rollout update', () => {
    const change = {
      kind: 'rolloutUpdate',
      name: 'predict',
      rollout: {},
      decisions: [
        { at: '2026-01-01T00:00:00.000Z', event: 'analysis', step: 1, actor: 'rollout', outcome: 'fail' },
        { at: '2026-01-01T00:00:00.000Z', event: 'rolled-back', step: 1, actor: 'rollout', weights: { blue: 100, green: 0 }, reason: 'errors above 5%' },
      ],
    } as unknown as StoreChange;
    expect(commitLines(entry(7, change, '', 'rollout'), undefined, undefined)).toEqual([
      'rollout predict: step 1 analysis fail (by rollout, revision 7)',
      'rollout predict: step 1 rolled-back blue 100, green 0 — errors above 5% (by rollout, revision 7)',
    ]);
  });

  it('tells any other change by its audit summary', () => {
    expect(commitLines(entry(1, { kind: 'deleteListener', name: 'edge' }, 'delete listener edge', 'admin'), undefined, undefined)).toEqual([
      'delete listener edge (by admin, revision 1)',
    ]);
  });
});

describe('fleet lines', () => {
  it('tells a connect, a NACK once with Envoy\'s message, and a disconnect', () => {
    const fleet = new FleetStatus();
    const narrator = new FleetNarrator();
    expect(narrator.update(fleet.list())).toEqual([]);
    fleet.streamOpened(1, { id: 'demo-envoy', cluster: 'demo', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' }, { kind: 'sotw', aggregated: true });
    expect(narrator.update(fleet.list())).toEqual(['proxy demo-envoy connected (envoy 1.40.0, node cluster demo, ADS)']);
    fleet.subscribed(1, ROUTE_TYPE);
    expect(narrator.update(fleet.list())).toEqual([]);
    fleet.nacked(1, ROUTE_TYPE, 'r7', 'Invalid regex: missing )');
    expect(narrator.update(fleet.list())).toEqual(['NACK from demo-envoy: rejected routes version r7: Invalid regex: missing )']);
    fleet.acked(1, ROUTE_TYPE, 'r6');
    expect(narrator.update(fleet.list())).toEqual([]);
    fleet.streamClosed(1);
    expect(narrator.update(fleet.list())).toEqual(['proxy demo-envoy disconnected']);
  });
});

describe('narrate', () => {
  it('writes a line per commit, in order, with the actor of each, and per fleet event', async () => {
    const store = await Store.open(SqliteAdapter.open(':memory:'), { initialState: INITIAL_STATE });
    const fleet = new FleetStatus();
    // Connected before the narration starts: told first.
    fleet.streamOpened(0, { id: 'e0', cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' }, { kind: 'sotw', aggregated: true });
    const lines: string[] = [];
    let wake: () => void = () => {};
    const stop = narrate(store, fleet, (line) => {
      lines.push(line);
      wake();
    });
    const until = async (count: number): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (lines.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${lines.length} lines: ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    };
    try {
      await store.apply({ kind: 'putService', name: 'predict', body: predictBody() as never }, { actor: 'admin' });
      await store.apply({ kind: 'setWeights', name: 'predict', weights: { blue: 90, green: 10 } }, { actor: 'alice' });
      await store.apply({ kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } }, { actor: 'carol' });
      await store.apply({ kind: 'rollback', name: 'predict' }, { actor: 'alice' });
      fleet.streamOpened(1, { id: 'e1', cluster: '', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' }, { kind: 'delta', aggregated: true });
      await until(6);
      expect(lines[0]).toBe('proxy e0 connected (envoy 1.40.0, node cluster edge, ADS)');
      expect(lines.filter((l) => !l.startsWith('proxy'))).toEqual([
        'put service predict (by admin, revision 1)',
        'weights predict: blue 100 → 90, green 0 → 10 (by alice, revision 2)',
        'weights predict: blue 90 → 50, green 10 → 50 (by carol, revision 3)',
        'rollback predict: all traffic back to stable blue; blue 50 → 100, green 50 → 0 (by alice, revision 4)',
      ]);
      expect(lines.filter((l) => l.startsWith('proxy'))).toEqual(['proxy e0 connected (envoy 1.40.0, node cluster edge, ADS)', 'proxy e1 connected (envoy 1.40.0, ADS (delta))']);
    } finally {
      stop();
      await store.close();
    }
  });
});
