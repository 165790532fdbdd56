// The streams each node has open at once (an Envoy on the per-type services has one per type), so
// make-before-break holds across them: no stream sends listeners or routes while another has
// clusters in flight, and none removes a cluster or its endpoints while the node's routes are not
// settled. Holds no protocol state of its own; it only asks and wakes the streams.

import type { Snapshot } from '../snapshot.js';

export interface PeerStream {
  hasClustersInFlight(): boolean;
  /** Whether this stream's listeners and routes are ACKed at `snapshot` (true when it reads another group). */
  routesSettledAt(group: string, snapshot: Snapshot): boolean;
  /** Whether this stream keeps clusters or endpoints its snapshot dropped, waiting for routes. */
  isRetaining(): boolean;
  /** Re-evaluates what is due now that a peer's clusters or routes were answered. */
  flush(): void;
}

export class NodePeers {
  private readonly byNode = new Map<string, Set<PeerStream>>();

  /** Registers a stream under its node id; returns the function that removes it. */
  join(nodeId: string, stream: PeerStream): () => void {
    let peers = this.byNode.get(nodeId);
    if (!peers) {
      peers = new Set();
      this.byNode.set(nodeId, peers);
    }
    peers.add(stream);
    return () => {
      const current = this.byNode.get(nodeId);
      if (!current) return;
      current.delete(stream);
      if (current.size === 0) this.byNode.delete(nodeId);
    };
  }

  clustersInFlight(nodeId: string): boolean {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer.hasClustersInFlight()) return true;
    return false;
  }

  /** Whether all of a node's streams (the asking one included) have their routes settled at `snapshot`. */
  routesSettled(nodeId: string, group: string, snapshot: Snapshot): boolean {
    for (const peer of this.byNode.get(nodeId) ?? []) if (!peer.routesSettledAt(group, snapshot)) return false;
    return true;
  }

  /** A node's clusters were ACKed or NACKed (or a stream left): its other streams may send what they held back. */
  clustersSettled(nodeId: string, settledBy: PeerStream): void {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer !== settledBy) peer.flush();
  }

  /** A node's listeners or routes were ACKed or NACKed: streams keeping dropped clusters re-check. */
  routesAnswered(nodeId: string, answeredBy: PeerStream): void {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer !== answeredBy && peer.isRetaining()) peer.flush();
  }

  nodeCount(): number {
    return this.byNode.size;
  }
}
