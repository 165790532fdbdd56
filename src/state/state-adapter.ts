// The persistence interface of the store: load the latest revision, commit one revision (its full
// state plus its audit entry) atomically, read the audit log and any past revision's state.
// Implementations own storage only; they never validate or transform the state.

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

export interface LoadedState {
  state: DesiredState;
}

export interface StateAdapter {
  /** The latest committed state, or undefined when nothing was ever committed. */
  load(): Promise<LoadedState | undefined>;
  /** Stores the revision's state and audit entry in one atomic step, or nothing. */
  commit(entry: CommitEntry): Promise<void>;
  /** Audit entries, newest first. */
  audit(query: AuditQuery): Promise<AuditEntry[]>;
  /** The state committed as `revision`, or undefined when no such revision was committed. */
  stateAt(revision: number): Promise<DesiredState | undefined>;
  /**
   * Present when several sluice replicas share the store: calls `onCommit` whenever any replica
   * may have committed (and after reconnecting), so the caller catches up with `load`.
   */
  watch?(onCommit: () => void, onError: (error: Error) => void): Promise<void>;
  close(): Promise<void>;
}
