import { describe, expect, it } from 'vitest';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../xds/type-urls.js';
import { EMPTY_TYPE_VERSION } from '../xds/snapshot.js';
import { RevisionLedger, type GroupBuild, type TypeVersions } from './revision-ledger.js';
import type { Footprint, FootprintKey } from './service-footprints.js';

function versions(tag: string): TypeVersions {
  return { [CLUSTER_TYPE]: `${tag}c`, [ENDPOINT_TYPE]: `${tag}e`, [LISTENER_TYPE]: `${tag}l`, [ROUTE_TYPE]: `${tag}r` };
}

const ALL: ResourceTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE];

function group(name: string, typeVersions: TypeVersions, footprints?: Record<FootprintKey, Footprint>): GroupBuild {
  return { group: name, versions: typeVersions, ...(footprints ? { footprints: new Map(Object.entries(footprints) as [FootprintKey, Footprint][]) } : {}) };
}

describe('RevisionLedger', () => {
  it('finds the newest revision whose versions a proxy ACKed, in any group', () => {
    const ledger = new RevisionLedger();
    ledger.record(1, [group('a', versions('a1')), group('b', versions('b1'))]);
    ledger.record(2, [group('a', versions('a2')), group('b', versions('b2'))]);
    expect(ledger.appliedRevision(versions('b1'), ALL)).toBe(1);
    expect(ledger.appliedRevision(versions('a2'), ALL)).toBe(2);
    expect(ledger.appliedRevision({ ...versions('a2'), [ROUTE_TYPE]: 'other' }, ALL)).toBeUndefined();
    // Only the types the proxy subscribed to count.
    expect(ledger.appliedRevision({ [ROUTE_TYPE]: 'a2r' }, [ROUTE_TYPE])).toBe(2);
  });

  it('adds a group built later for the same revision (a stream of a new kind connected)', () => {
    const ledger = new RevisionLedger();
    ledger.record(6, [group('ads', versions('ads'))]);
    ledger.record(6, [group('ads', versions('ads')), group('per-type', versions('per-type'))]);
    expect(ledger.appliedRevision(versions('per-type'), ALL)).toBe(6);
    ledger.record(5, [group('old', versions('old'))]);
    expect(ledger.appliedRevision(versions('old'), ALL)).toBeUndefined();
    expect(ledger.latest()).toBe(6);
  });

  it('counts a type the proxy will ask for (routes after listeners) only where the revision has none of it', () => {
    const ledger = new RevisionLedger();
    ledger.record(1, [group('a', { ...versions('a1'), [ROUTE_TYPE]: EMPTY_TYPE_VERSION })]);
    ledger.record(2, [group('a', versions('a2'))]);
    const listenersOnly: ResourceTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE];
    // Revision 2 has routes the proxy has not asked for yet: not applied, though all it ACKed matches.
    expect(ledger.appliedRevision(versions('a2'), listenersOnly, [ROUTE_TYPE])).toBeUndefined();
    // Revision 1 had no routes: its listeners alone make it applied.
    expect(ledger.appliedRevision(versions('a1'), listenersOnly, [ROUTE_TYPE])).toBe(1);
  });

  describe('per service', () => {
    // Revision 1: services a and b. Revision 2: a listener "clash" is added (listener versions change).
    // Revision 3: b's weights change (route versions change, only b's route footprint).
    const a: Footprint = { [LISTENER_TYPE]: 'la', [ROUTE_TYPE]: 'ra', [CLUSTER_TYPE]: 'ca', [ENDPOINT_TYPE]: 'ea' };
    const b1: Footprint = { [LISTENER_TYPE]: 'la', [ROUTE_TYPE]: 'rb1', [CLUSTER_TYPE]: 'cb', [ENDPOINT_TYPE]: 'eb' };
    const b3: Footprint = { ...b1, [ROUTE_TYPE]: 'rb3' };
    const v1 = versions('1');
    const v2 = { ...v1, [LISTENER_TYPE]: '2l' };
    const v3 = { ...v2, [ROUTE_TYPE]: '3r' };
    function ledgerOfThree(): RevisionLedger {
      const ledger = new RevisionLedger();
      ledger.record(1, [group('g', v1, { 'service/a': a, 'service/b': b1 })]);
      ledger.record(2, [group('g', v2, { 'service/a': a, 'service/b': b1, 'listener/clash': { [LISTENER_TYPE]: 'lc' } })]);
      ledger.record(3, [group('g', v3, { 'service/a': a, 'service/b': b3, 'listener/clash': { [LISTENER_TYPE]: 'lc' } })]);
      return ledger;
    }
    const held = (acked: Partial<TypeVersions>, subscribed = ALL, implied: ResourceTypeUrl[] = []) => ({ group: 'g', acked, subscribed, implied });

    it('a rejected listener holds back neither service, only itself (and the whole revision)', () => {
      const ledger = ledgerOfThree();
      // The proxy NACKed the listeners of revision 2 and ACKed the routes of revision 3.
      const proxy = held({ ...v3, [LISTENER_TYPE]: v1[LISTENER_TYPE] });
      expect(ledger.unitAppliedRevision('service/b', proxy)).toBe(3);
      expect(ledger.unitAppliedRevision('service/a', proxy)).toBe(3);
      expect(ledger.unitAppliedRevision('listener/clash', proxy)).toBe(1);
      expect(ledger.appliedRevision(proxy.acked, ALL)).toBeUndefined();
    });

    it('a service whose own change has not arrived stands at the revision before it', () => {
      const ledger = ledgerOfThree();
      const proxy = held(v2);
      expect(ledger.unitAppliedRevision('service/b', proxy)).toBe(2);
      expect(ledger.unitAppliedRevision('service/a', proxy)).toBe(3);
    });

    it('an unknown version, another group, or a type still to come that the service has, applies nothing', () => {
      const ledger = ledgerOfThree();
      expect(ledger.unitAppliedRevision('service/a', held({ ...v3, [CLUSTER_TYPE]: 'unknown' }))).toBeUndefined();
      expect(ledger.unitAppliedRevision('service/a', { ...held(v3), group: 'other' })).toBeUndefined();
      const noRoutesYet: ResourceTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE];
      expect(ledger.unitAppliedRevision('service/a', held(v3, noRoutesYet, [ROUTE_TYPE]))).toBeUndefined();
      // The clash listener has no routes: a type still to come does not hold it back.
      expect(ledger.unitAppliedRevision('listener/clash', held(v3, noRoutesYet, [ROUTE_TYPE]))).toBe(3);
    });

    it('names the units that changed between the version a proxy holds and the one it rejected', () => {
      const ledger = ledgerOfThree();
      expect(ledger.changedUnits('g', LISTENER_TYPE, v1[LISTENER_TYPE], v2[LISTENER_TYPE])).toEqual({ keys: ['listener/clash'], known: true });
      expect(ledger.changedUnits('g', ROUTE_TYPE, v1[ROUTE_TYPE], v3[ROUTE_TYPE])).toEqual({ keys: ['service/b'], known: true });
      // Nothing held yet: everything the rejected version carried.
      expect(ledger.changedUnits('g', ROUTE_TYPE, undefined, v3[ROUTE_TYPE]).keys).toEqual(['service/a', 'service/b']);
      expect(ledger.changedUnits('g', ROUTE_TYPE, v1[ROUTE_TYPE], 'unknown')).toEqual({ keys: [], known: false });
    });

    it('forgets what only pruned revisions needed, and still answers for the rest', () => {
      const ledger = new RevisionLedger(3);
      for (let revision = 1; revision <= 200; revision++) {
        const footprints = { 'service/a': { ...a, [ROUTE_TYPE]: revision === 1 ? 'first' : 'later' } };
        ledger.record(revision, [group('g', { ...v1, [ROUTE_TYPE]: revision === 1 ? '1r' : `${revision}r` }, footprints)]);
      }
      expect(ledger.unitAppliedRevision('service/a', held({ ...v1, [ROUTE_TYPE]: '199r' }))).toBe(200);
      expect(ledger.unitAppliedRevision('service/a', held({ ...v1, [ROUTE_TYPE]: '1r' }))).toBeUndefined();
    });
  });
});
