// Which Envoys receive a listener: its node selector matched against a node's cluster. Pure
// predicates over the model; the grouping of nodes by what they receive lives in sync.

import type { Listener } from './types.js';

/** Whether a listener goes to Envoys whose node cluster is `nodeCluster`. */
export function listenerSelects(listener: Listener, nodeCluster: string): boolean {
  return listener.nodes === undefined || listener.nodes.clusters.includes(nodeCluster);
}

/** Whether some Envoy could receive both listeners. */
export function selectionsOverlap(a: Listener, b: Listener): boolean {
  if (a.nodes === undefined || b.nodes === undefined) return true;
  return a.nodes.clusters.some((cluster) => b.nodes!.clusters.includes(cluster));
}
