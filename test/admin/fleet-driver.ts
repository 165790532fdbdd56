// Drives a real FleetStatus the way the xDS stream callbacks do, and makes per-type versions to
// record in a RevisionLedger by hand, for the revision and metrics tests. No xDS server runs.

import type { FleetStatus } from '../../src/fleet/status.js';
import type { TypeVersions } from '../../src/sync/revision-ledger.js';
import type { StreamKind } from '../../src/xds/server/callbacks.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';

export const TYPES = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE] as const;

/** Distinct versions for every type, e.g. versions('r2') for what revision 2 became. */
export function versions(tag: string): TypeVersions {
  return {
    [CLUSTER_TYPE]: `${tag}-cds`,
    [ENDPOINT_TYPE]: `${tag}-eds`,
    [LISTENER_TYPE]: `${tag}-lds`,
    [ROUTE_TYPE]: `${tag}-rds`,
  };
}

export function connect(fleet: FleetStatus, streamId: number, id: string, kind: StreamKind = 'sotw'): void {
  fleet.streamOpened(streamId, { id, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' }, { kind, aggregated: true });
}

/** Sends and ACKs every type at the given versions (or only `types`). */
export function ackAll(fleet: FleetStatus, streamId: number, typeVersions: TypeVersions, types: readonly (typeof TYPES)[number][] = TYPES): void {
  for (const typeUrl of types) {
    fleet.responseSent(streamId, typeUrl, typeVersions[typeUrl]);
    fleet.acked(streamId, typeUrl, typeVersions[typeUrl]);
  }
}

/** Counts the fleet-change listeners currently subscribed, to prove waits clean up after themselves. */
export function countListeners(fleet: FleetStatus): { active(): number } {
  let active = 0;
  const subscribe = fleet.onChange.bind(fleet);
  fleet.onChange = (listener) => {
    active++;
    const unsubscribe = subscribe(listener);
    let done = false;
    return () => {
      if (!done) active--;
      done = true;
      unsubscribe();
    };
  };
  return { active: () => active };
}
