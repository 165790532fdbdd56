// The streams each node has open at once (per-type Envoys: one per type and per EDS cluster), so
// make-before-break holds across them: none sends listeners or routes while another holds them
// (clusters in flight, or added clusters whose endpoints are unanswered) and none removes a cluster
// or its endpoints while the node's routes are unsettled. No protocol state: it numbers and relays.

import type { Snapshot } from '../snapshot.js';

export interface PeerStream {
  /**
   * Whether the node's listeners and routes from `snapshot` must wait for this stream: a cluster
   * response it sent is unanswered, or (per-type) a cluster it added or changed that `snapshot`
   * has endpoints for still waits for them.
   */
  holdsRoutes(snapshot: Snapshot): boolean;
  /**
   * A peer's endpoint response numbered `sequence` was ACKed or NACKed; `versionOf` gives the
   * version it carried per name (undefined when it carried none). True when a cluster this stream
   * waited for is warm now.
   */
  takeEndpointAnswer(versionOf: (name: string) => string | undefined, sequence: number): boolean;
  /** Whether this stream carries listeners or routes (make-before-break may be holding them back). */
  carriesRoutes(): boolean;
  /** Whether this stream's listeners and routes are ACKed at `snapshot` (true when it reads another group). */
  routesSettledAt(group: string, snapshot: Snapshot): boolean;
  /** Whether this stream keeps clusters or endpoints its snapshot dropped, waiting for routes. */
  isRetaining(): boolean;
  /** Re-evaluates what is due now that a peer's clusters or routes were answered. */
  flush(): void;
  /** Whether the cluster is in the snapshot this stream reads, or among the clusters it sent and still holds. */
  servesCluster(name: string): boolean;
}

export class NodePeers {
  private readonly byNode = new Map<string, Set<PeerStream>>();
  private sequence = 0;

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

  /** Whether any of the node's open streams serves it the cluster (load reports are taken for those alone). */
  servesCluster(nodeId: string, cluster: string): boolean {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer.servesCluster(cluster)) return true;
    return false;
  }

  /** Numbers a cluster or endpoint response, in sending order across every stream. */
  nextSequence(): number {
    return ++this.sequence;
  }

  /** Whether any of a node's streams holds back its listeners and routes from `snapshot`. */
  routesHeld(nodeId: string, snapshot: Snapshot): boolean {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer.holdsRoutes(snapshot)) return true;
    return false;
  }

  /** Whether all of a node's streams (the asking one included) have their routes settled at `snapshot`. */
  routesSettled(nodeId: string, group: string, snapshot: Snapshot): boolean {
    for (const peer of this.byNode.get(nodeId) ?? []) if (!peer.routesSettledAt(group, snapshot)) return false;
    return true;
  }

  /** A node's clusters were ACKed or NACKed (or a stream left, or stopped holding): its other streams may send what they held back. */
  clustersSettled(nodeId: string, settledBy: PeerStream): void {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer !== settledBy) peer.flush();
  }

  /**
   * A node's endpoint response was ACKed or NACKed: cluster streams waiting for those endpoints
   * take note, and if a cluster warmed, the node's listener and route streams send what they held
   * back (only those: a per-type Envoy has an endpoint stream per cluster).
   */
  endpointsAnswered(nodeId: string, answeredBy: PeerStream, versionOf: (name: string) => string | undefined, sequence: number): void {
    const peers = this.byNode.get(nodeId) ?? [];
    let warmed = false;
    for (const peer of peers) if (peer.takeEndpointAnswer(versionOf, sequence)) warmed = true;
    if (warmed) for (const peer of peers) if (peer !== answeredBy && peer.carriesRoutes()) peer.flush();
  }

  /** A node's listeners or routes were ACKed or NACKed: streams keeping dropped clusters re-check. */
  routesAnswered(nodeId: string, answeredBy: PeerStream): void {
    for (const peer of this.byNode.get(nodeId) ?? []) if (peer !== answeredBy && peer.isRetaining()) peer.flush();
  }

  nodeCount(): number {
    return this.byNode.size;
  }
}
