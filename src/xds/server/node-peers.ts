// The streams each node has open at once. An Envoy on the per-type services fetches clusters,
// endpoints, listeners and routes over separate streams; make-before-break must hold across
// them: no stream of a node sends listeners or routes while another has clusters in flight.

export interface PeerStream {
  hasClustersInFlight(): boolean;
  /** Re-evaluates what is due now that a peer's clusters were answered. */
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

  /** A node's clusters were ACKed or NACKed: its other streams may send what they held back. */
  clustersSettled(nodeId: string, settledBy: PeerStream): void {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer !== settledBy) peer.flush();
  }

  nodeCount(): number {
    return this.byNode.size;
  }
}
