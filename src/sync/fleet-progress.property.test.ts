import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetStatus } from '../fleet/status.js';
import { PUSH_ORDER } from '../xds/type-urls.js';
import { FleetProgress } from './fleet-progress.js';
import { appliedRevisionOf } from './proxy-report.js';
import { RevisionLedger, type TypeVersions } from './revision-ledger.js';

// The index must answer exactly what asking every proxy from scratch answers, after any sequence of
// connects, subscriptions, ACKs, NACKs, disconnects, ledger records and hold changes, asked at any time.

const TYPES = PUSH_ORDER;
const VERSIONS = ['v1', 'v2'];

type Op =
  | { kind: 'open'; node: number }
  | { kind: 'subscribe'; stream: number; type: number }
  | { kind: 'ack'; stream: number; type: number; version: number }
  | { kind: 'nack'; stream: number; type: number; version: number }
  | { kind: 'catch-up'; stream: number }
  | { kind: 'close'; stream: number }
  | { kind: 'record'; versions: number[] }
  | { kind: 'hold'; node: number; release: boolean }
  | { kind: 'ask' };

// Weighted so that proxies often catch up with the newest revision: most interesting answers are not 0.
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('open' as const), node: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), stream: fc.nat(9), type: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ack' as const), stream: fc.nat(9), type: fc.nat(3), version: fc.nat(1) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('catch-up' as const), stream: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nack' as const), stream: fc.nat(9), type: fc.nat(3), version: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), stream: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('record' as const), versions: fc.array(fc.nat(1), { minLength: 4, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hold' as const), node: fc.nat(2), release: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'ask' as const }) },
);

/** Holds as the proxy reports read them: node n is held back before revision `since`. */
class FakeHolds {
  generation = 0;
  readonly since = new Map<string, number>();
  heldFor(nodeId: string) {
    const since = this.since.get(nodeId);
    return since === undefined ? [] : [{ unit: 'service' as const, name: 'predict', since, type: 'routes' as const, message: 'rejected', at: '' }];
  }
  groupOf(): string {
    return 'g';
  }
}

function fromScratch(fleet: FleetStatus, ledger: RevisionLedger, holds: FakeHolds): { connected: number; applied: number | undefined } {
  const proxies = fleet.list();
  let applied: number | undefined;
  for (const proxy of proxies) {
    const revision = appliedRevisionOf(proxy, ledger, holds) ?? 0;
    applied = applied === undefined ? revision : Math.min(applied, revision);
  }
  return { connected: proxies.length, applied };
}

describe('FleetProgress', () => {
  it('answers what asking every proxy from scratch answers, whatever happened in between', () => {
    let runsWithProgress = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 80, size: 'max' }), (ops) => {
        const fleet = new FleetStatus();
        const ledger = new RevisionLedger();
        const holds = new FakeHolds();
        const progress = new FleetProgress(fleet, ledger, (proxy) => appliedRevisionOf(proxy, ledger, holds), holds);
        let streams = 0;
        const open: number[] = [];
        // Stream operations pick one of the open streams (or, with none open, one long closed).
        const pick = (k: number): number => (open.length === 0 ? k : open[k % open.length]!);
        let revision = 0;
        let latest: TypeVersions | undefined;
        let applied = 0;
        for (const step of ops) {
          switch (step.kind) {
            case 'open':
              open.push(streams);
              fleet.streamOpened(streams++, { id: `n${step.node}`, cluster: 'c', userAgentName: 'envoy', clientVersion: '', envoyVersion: '1.40.0' }, { kind: 'sotw', aggregated: true });
              break;
            case 'subscribe':
              fleet.subscribed(pick(step.stream), TYPES[step.type]!);
              break;
            case 'ack':
              fleet.acked(pick(step.stream), TYPES[step.type]!, VERSIONS[step.version]!);
              break;
            case 'nack':
              fleet.nacked(pick(step.stream), TYPES[step.type]!, VERSIONS[step.version]!, 'rejected');
              break;
            case 'catch-up':
              for (const type of TYPES) fleet.acked(pick(step.stream), type, latest?.[type] ?? 'none');
              break;
            case 'close': {
              const id = pick(step.stream);
              fleet.streamClosed(id);
              if (open.includes(id)) open.splice(open.indexOf(id), 1);
              break;
            }
            case 'record': {
              const versions = Object.fromEntries(TYPES.map((type, i) => [type, VERSIONS[step.versions[i]!]!])) as TypeVersions;
              ledger.record(++revision, [{ group: 'g', versions }]);
              latest = versions;
              break;
            }
            case 'hold':
              if (step.release) holds.since.delete(`n${step.node}`);
              else holds.since.set(`n${step.node}`, Math.max(1, revision));
              holds.generation++;
              break;
            case 'ask': {
              const expected = fromScratch(fleet, ledger, holds);
              expect(progress.lowest()).toEqual(expected);
              applied = Math.max(applied, expected.applied ?? 0);
            }
          }
        }
        expect(progress.lowest()).toEqual(fromScratch(fleet, ledger, holds));
        if (applied > 0) runsWithProgress++;
      }),
      { seed: 20261204, numRuns: 400 },
    );
    // The sequences must reach proxies that applied something, or the comparison proves little.
    expect(runsWithProgress).toBeGreaterThan(100);
  });
});
