// Holds the current snapshot of each node group and tells watchers when it changes. Never
// encodes and knows nothing of gRPC or of the desired state; until a group's first snapshot is
// set, watchers hear nothing, so no stream answers before the state has loaded.

import type { Snapshot } from './snapshot.js';

export type SnapshotWatcher = (snapshot: Snapshot) => void;

export class SnapshotCache {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly watchers = new Map<string, Set<SnapshotWatcher>>();
  private missingGroup: ((group: string) => void) | undefined;

  /** Called when a stream watches a group that has no snapshot yet (it may build one). */
  onMissingGroup(handler: (group: string) => void): void {
    this.missingGroup = handler;
  }

  set(group: string, snapshot: Snapshot): void {
    if (this.snapshots.get(group) === snapshot) return;
    this.snapshots.set(group, snapshot);
    for (const watcher of this.watchers.get(group) ?? []) watcher(snapshot);
  }

  get(group: string): Snapshot | undefined {
    return this.snapshots.get(group);
  }

  /** Calls `watcher` with the current snapshot (if any) and with every later one. */
  watch(group: string, watcher: SnapshotWatcher): () => void {
    let set = this.watchers.get(group);
    if (!set) {
      set = new Set();
      this.watchers.set(group, set);
    }
    set.add(watcher);
    const current = this.snapshots.get(group);
    if (current) watcher(current);
    else this.missingGroup?.(group);
    return () => {
      const watchers = this.watchers.get(group);
      if (!watchers) return;
      watchers.delete(watcher);
      if (watchers.size === 0) this.watchers.delete(group);
    };
  }

  hasWatchers(group: string): boolean {
    return (this.watchers.get(group)?.size ?? 0) > 0;
  }

  /** Forgets a group's snapshot (nobody reads it any more). */
  drop(group: string): void {
    this.snapshots.delete(group);
  }

  watcherCount(): number {
    let count = 0;
    for (const set of this.watchers.values()) count += set.size;
    return count;
  }
}
