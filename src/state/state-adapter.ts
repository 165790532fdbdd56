// The persistence interface of the store: load the latest revision, commit one revision (its full
// state plus its audit entry) atomically or report that another writer took that revision, read
// the audit log and any past revision's state (the states of old revisions dropped past the
// retention, their audit entries kept). Implementations own storage only; they never
// validate or transform the state.

import type { DesiredState } from '../model/types.js';
import type { StoreChange } from './changes.js';

export interface AuditEntry {
  revision: number;
  actor: string;
  /** ISO 8601 time of the commit. */
  at: string;
  change: StoreChange;
  summary: string;
}

export interface CommitEntry extends AuditEntry {
  state: DesiredState;
}

export interface AuditQuery {
  limit: number;
  /** Only entries with a revision lower than this. */
  before?: number;
}

/** How a SQL adapter keeps revisions. */
export interface AdapterOptions {
  /**
   * How many past revisions (before the latest) keep their full state; older ones keep only
   * their audit entry. Unlimited when absent.
   */
  revisionRetention?: number;
}

/** The revisions whose state a commit of `revision` drops: those below this one. */
export function pruneBelow(revision: number, retention: number | undefined): number {
  return retention === undefined ? 0 : revision - retention;
}

export interface LoadedState {
  state: DesiredState;
}

/**
 * What became of a commit. `conflict`: the revision was already taken (another replica committed
 * first); nothing was stored, and the caller catches up with `load` and tries again on the newer
 * state. A store that cannot be reached, or any other failure, is a rejection instead.
 */
export type CommitResult = 'committed' | 'conflict';

export interface StateAdapter {
  /** The latest committed state, or undefined when nothing was ever committed. */
  load(): Promise<LoadedState | undefined>;
  /**
   * Stores the revision's state and audit entry in one atomic step, or nothing: `conflict` when
   * the revision is taken. A revision beyond the next one is a failure (the storage lost revisions).
   */
  commit(entry: CommitEntry): Promise<CommitResult>;
  /** Audit entries, newest first. */
  audit(query: AuditQuery): Promise<AuditEntry[]>;
  /**
   * The state committed as `revision`; `pruned` when the revision was committed but its state was
   * dropped by the revision retention (its audit entry remains); undefined when no such revision
   * was committed.
   */
  stateAt(revision: number): Promise<DesiredState | 'pruned' | undefined>;
  /**
   * Present when several sluice replicas share the store: calls `onCommit` whenever any replica
   * may have committed (and after reconnecting), so the caller catches up with `load`.
   */
  watch?(onCommit: () => void, onError: (error: Error) => void): Promise<void>;
  close(): Promise<void>;
}
