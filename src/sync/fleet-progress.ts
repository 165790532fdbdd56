// How far the proxies connected to this replica have come on the whole desired state: each node's
// applied revision and, over all, the lowest. Kept up to date by redoing only the nodes whose ACKs
// changed (and every node once the ledger or the holds change), so asking after each burst of ACKs
// costs what the burst changed, not the fleet's size. Reads the fleet, the ledger and the holds; writes none.

import type { FleetStatus, NodeAcks } from '../fleet/status.js';
import type { RevisionLedger } from './revision-ledger.js';

export class FleetProgress {
  private readonly appliedByNode = new Map<string, number>();
  /** How many nodes stand at each applied revision (0: none yet). */
  private readonly nodesAt = new Map<number, number>();
  private readonly changedNodes = new Set<string>();
  private ledgerGeneration = -1;
  private holdsGeneration = -1;

  constructor(
    private readonly fleet: FleetStatus,
    private readonly ledger: RevisionLedger,
    private readonly appliedOf: (acks: NodeAcks) => number | null,
    private readonly holds?: { readonly generation: number },
  ) {
    fleet.onNodeChange((nodeId) => this.changedNodes.add(nodeId));
  }

  /** The connected nodes and the newest revision all of them have applied (undefined with none connected). */
  lowest(): { connected: number; applied: number | undefined } {
    this.catchUp();
    let applied: number | undefined;
    for (const revision of this.nodesAt.keys()) applied = applied === undefined ? revision : Math.min(applied, revision);
    return { connected: this.appliedByNode.size, applied };
  }

  private catchUp(): void {
    const holdsGeneration = this.holds?.generation ?? 0;
    if (this.ledger.generation !== this.ledgerGeneration || holdsGeneration !== this.holdsGeneration) {
      this.ledgerGeneration = this.ledger.generation;
      this.holdsGeneration = holdsGeneration;
      this.changedNodes.clear();
      this.appliedByNode.clear();
      this.nodesAt.clear();
      // Once per revision: what each node ACKed, without building every node's view.
      for (const nodeId of this.fleet.nodeIds()) this.place(nodeId, this.fleet.acks(nodeId));
      return;
    }
    for (const nodeId of this.changedNodes) this.place(nodeId, this.fleet.acks(nodeId));
    this.changedNodes.clear();
  }

  private place(nodeId: string, acks: NodeAcks | undefined): void {
    const before = this.appliedByNode.get(nodeId);
    if (before !== undefined) {
      const left = this.nodesAt.get(before)! - 1;
      if (left === 0) this.nodesAt.delete(before);
      else this.nodesAt.set(before, left);
      this.appliedByNode.delete(nodeId);
    }
    if (!acks) return;
    const applied = this.appliedOf(acks) ?? 0;
    this.appliedByNode.set(nodeId, applied);
    this.nodesAt.set(applied, (this.nodesAt.get(applied) ?? 0) + 1);
  }
}
