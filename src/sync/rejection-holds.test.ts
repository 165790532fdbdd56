import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FleetStatus } from '../fleet/status.js';
import type { DesiredState, Service } from '../model/types.js';
import { predictService } from '../translate/fixtures.test-support.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { nodeGroup } from './node-groups.js';
import type { NodeGrouping } from './proxy-report.js';
import { RejectionHolds, withHolds } from './rejection-holds.js';
import { RevisionLedger, type TypeVersions } from './revision-ledger.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const node = (id: string) => ({ id, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' });
const ADS = { kind: 'sotw' as const, aggregated: true };
const groupOf: NodeGrouping = (info, transport) => nodeGroup(info, transport, {});
const GROUP = groupOf(node('any'), ADS);

const rank: Service = predictService({ name: 'rank', match: { prefix: '/rank' } });
const withRule: Service = { ...rank, rules: [{ match: { cookies: { beta: '1' } }, to: 'green' }] };

function stateOf(revision: number, ...services: Service[]): DesiredState {
  return {
    revision,
    listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
    services: Object.fromEntries(services.map((s) => [s.name, s])),
  };
}

function versions(routes: string): TypeVersions {
  return { [CLUSTER_TYPE]: 'c', [ENDPOINT_TYPE]: 'e', [LISTENER_TYPE]: 'l', [ROUTE_TYPE]: routes };
}

describe('withHolds', () => {
  const predict = predictService();
  const state = stateOf(5, predict, { ...withRule, weights: { blue: 0, green: 100, canary: 0 }, stable: 'green' });
  const hold = (key: 'service/rank' | 'listener/default', accepted: unknown) => ({
    key,
    unit: key.startsWith('service') ? ('service' as const) : ('listener' as const),
    name: key.split('/')[1]!,
    since: 5,
    type: 'routes' as const,
    message: 'rejected',
    at: '',
    accepted: accepted as Service,
    rejectedSpec: '',
  });

  it("keeps a held service as accepted, with today's weights and stable version", () => {
    const adjusted = withHolds(state, [hold('service/rank', rank)]);
    expect(adjusted.services['rank']).toEqual({ ...rank, weights: { blue: 0, green: 100, canary: 0 }, stable: 'green' });
    expect(adjusted.services['predict']).toBe(predict);
  });

  it('keeps it exactly as accepted when its versions differ from today’s (the weights would not fit)', () => {
    const twoVersions: Service = { ...rank, versions: rank.versions.slice(0, 2), weights: { blue: 100, green: 0 } };
    expect(withHolds(state, [hold('service/rank', twoVersions)]).services['rank']).toBe(twoVersions);
  });

  it('leaves out a unit the proxy never had, and the services of a listener it never had', () => {
    expect(Object.keys(withHolds(state, [hold('service/rank', undefined)]).services)).toEqual(['predict']);
    const noListener = withHolds(state, [hold('listener/default', undefined)]);
    expect(noListener.listeners).toEqual({});
    expect(noListener.services).toEqual({});
  });
});

describe('RejectionHolds', () => {
  function setup() {
    const fleet = new FleetStatus();
    const ledger = new RevisionLedger();
    const accepted = stateOf(1, predictService(), rank);
    ledger.record(1, [{ group: GROUP, versions: versions('r1'), footprints: new Map([['service/predict', { [ROUTE_TYPE]: 'p' }], ['service/rank', { [ROUTE_TYPE]: 'k1' }]]) }]);
    ledger.record(2, [{ group: GROUP, versions: versions('r2'), footprints: new Map([['service/predict', { [ROUTE_TYPE]: 'p' }], ['service/rank', { [ROUTE_TYPE]: 'k2' }]]) }]);
    let current = stateOf(2, predictService(), withRule);
    let regroups = 0;
    const holds = new RejectionHolds({
      fleet,
      ledger,
      stateAt: (revision) => (revision === 1 ? accepted : undefined),
      current: () => current,
      groupOf,
      regroup: () => regroups++,
      logger: pino({ level: 'silent' }),
    });
    holds.start();
    return {
      fleet,
      holds,
      regroups: () => regroups,
      commit(state: DesiredState) {
        current = state;
        holds.stateChanged(state);
      },
    };
  }

  it('holds the suspect of a NACK for that node alone, moving its streams to a variant of its group', async () => {
    const { fleet, holds, regroups } = setup();
    fleet.streamOpened(1, node('strict'), ADS);
    fleet.streamOpened(2, node('ordinary'), ADS);
    fleet.acked(1, ROUTE_TYPE, 'r1');
    fleet.nacked(1, ROUTE_TYPE, 'r2', 'regex too large');
    fleet.acked(2, ROUTE_TYPE, 'r2');
    await nextTurn();
    expect(regroups()).toBe(1);
    expect(holds.heldFor('strict')).toMatchObject([{ unit: 'service', name: 'rank', since: 2, type: 'routes', message: 'regex too large' }]);
    expect(holds.heldFor('ordinary')).toEqual([]);
    const variant = holds.groupFor('strict', GROUP);
    expect(variant).not.toBe(GROUP);
    expect(holds.groupFor('ordinary', GROUP)).toBe(GROUP);
    expect(holds.baseOf(variant)).toBe(GROUP);
    expect(holds.adjust(variant, stateOf(2, predictService(), withRule)).services['rank']).toEqual(rank);
    // The same NACK seen again on a later fleet change holds nothing new.
    fleet.acked(2, CLUSTER_TYPE, 'c');
    await nextTurn();
    expect(regroups()).toBe(1);
  });

  it('keeps the hold through weight changes and ends it when the service changes otherwise', async () => {
    const { fleet, holds, regroups, commit } = setup();
    fleet.streamOpened(1, node('strict'), ADS);
    fleet.acked(1, ROUTE_TYPE, 'r1');
    fleet.nacked(1, ROUTE_TYPE, 'r2', 'regex too large');
    await nextTurn();
    const variant = holds.groupFor('strict', GROUP);
    commit(stateOf(3, predictService(), { ...withRule, weights: { blue: 0, green: 100, canary: 0 } }));
    expect(holds.groupFor('strict', GROUP)).toBe(variant);
    expect(holds.adjust(variant, stateOf(3, predictService(), { ...withRule, weights: { blue: 0, green: 100, canary: 0 } })).services['rank']?.weights).toEqual({ blue: 0, green: 100, canary: 0 });
    commit(stateOf(4, predictService(), { ...rank, timeout: '5s' }));
    expect(holds.heldFor('strict')).toEqual([]);
    expect(holds.groupFor('strict', GROUP)).toBe(GROUP);
    expect(regroups()).toBe(2);
  });

  it('ends every hold of a node that disconnects', async () => {
    const { fleet, holds } = setup();
    fleet.streamOpened(1, node('strict'), ADS);
    fleet.acked(1, ROUTE_TYPE, 'r1');
    fleet.nacked(1, ROUTE_TYPE, 'r2', 'regex too large');
    await nextTurn();
    expect(holds.heldFor('strict')).toHaveLength(1);
    fleet.streamClosed(1);
    await nextTurn();
    expect(holds.heldFor('strict')).toEqual([]);
  });

  it('holds nothing for a proxy that never accepted the type (nothing to fall back to)', async () => {
    const { fleet, holds, regroups } = setup();
    fleet.streamOpened(1, node('fresh'), ADS);
    fleet.nacked(1, ROUTE_TYPE, 'r2', 'regex too large');
    await nextTurn();
    expect(holds.heldFor('fresh')).toEqual([]);
    expect(regroups()).toBe(0);
  });
});
