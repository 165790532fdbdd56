import { describe, expect, it } from 'vitest';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../xds/type-urls.js';
import { EMPTY_TYPE_VERSION } from '../xds/snapshot.js';
import { RevisionLedger, type TypeVersions } from './revision-ledger.js';

function versions(tag: string): TypeVersions {
  return { [CLUSTER_TYPE]: `${tag}c`, [ENDPOINT_TYPE]: `${tag}e`, [LISTENER_TYPE]: `${tag}l`, [ROUTE_TYPE]: `${tag}r` };
}

const ALL: ResourceTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE];

describe('RevisionLedger', () => {
  it('finds the newest revision whose versions a proxy ACKed, in any group', () => {
    const ledger = new RevisionLedger();
    ledger.record(1, versions('a1'), versions('b1'));
    ledger.record(2, versions('a2'), versions('b2'));
    expect(ledger.appliedRevision(versions('b1'), ALL)).toBe(1);
    expect(ledger.appliedRevision(versions('a2'), ALL)).toBe(2);
    expect(ledger.appliedRevision({ ...versions('a2'), [ROUTE_TYPE]: 'other' }, ALL)).toBeUndefined();
    // Only the types the proxy subscribed to count.
    expect(ledger.appliedRevision({ [ROUTE_TYPE]: 'a2r' }, [ROUTE_TYPE])).toBe(2);
  });

  it('adds a group built later for the same revision (a stream of a new kind connected)', () => {
    const ledger = new RevisionLedger();
    ledger.record(6, versions('ads'));
    ledger.record(6, versions('ads'), versions('per-type'));
    expect(ledger.appliedRevision(versions('per-type'), ALL)).toBe(6);
    ledger.record(5, versions('old'));
    expect(ledger.appliedRevision(versions('old'), ALL)).toBeUndefined();
    expect(ledger.latest()).toBe(6);
  });

  it('counts a type the proxy will ask for (routes after listeners) only where the revision has none of it', () => {
    const ledger = new RevisionLedger();
    ledger.record(1, { ...versions('a1'), [ROUTE_TYPE]: EMPTY_TYPE_VERSION });
    ledger.record(2, versions('a2'));
    const listenersOnly: ResourceTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE];
    // Revision 2 has routes the proxy has not asked for yet: not applied, though all it ACKed matches.
    expect(ledger.appliedRevision(versions('a2'), listenersOnly, [ROUTE_TYPE])).toBeUndefined();
    // Revision 1 had no routes: its listeners alone make it applied.
    expect(ledger.appliedRevision(versions('a1'), listenersOnly, [ROUTE_TYPE])).toBe(1);
  });
});
