// The store: the one way the desired state changes. It serializes changes, checks If-Match
// revisions, applies the pure change functions (reading a past revision's state to restore it),
// persists each revision with its audit entry through a StateAdapter, then tells subscribers.
// It knows nothing of HTTP or Envoy.

import { SluiceError } from '../errors.js';
import type { DesiredState } from '../model/types.js';
import { validateState } from '../model/validate.js';
import { applyChange, deepFreeze, restoreRevision, summarize, type StoreChange } from './changes.js';
import type { AuditEntry, AuditQuery, StateAdapter } from './state-adapter.js';

export interface StoreOptions {
  /** The state used when nothing was ever committed; its revision must be 0. */
  initialState: DesiredState;
  /**
   * Called when a subscriber throws. The commit stands either way; by default the error is
   * rethrown outside the store (an uncaught exception) so that it cannot go unnoticed.
   */
  onSubscriberError?: (error: unknown) => void;
}

export interface ApplyOptions {
  actor: string;
  /** The revision the caller based the change on; a different current revision fails with 412. */
  ifRevision?: number;
}

export interface ApplyResult {
  revision: number;
  state: DesiredState;
  /** The state the change was applied to (e.g. to answer with what a delete removed). */
  previous: DesiredState;
}

export type Subscriber = (state: DesiredState) => void;

function rethrowLater(error: unknown): void {
  setImmediate(() => {
    throw error;
  });
}

export class Store {
  private state: DesiredState;
  private readonly subscribers = new Set<Subscriber>();
  /** Settles when every apply queued so far has finished; applies run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly adapter: StateAdapter,
    state: DesiredState,
    private readonly onSubscriberError: (error: unknown) => void,
  ) {
    this.state = state;
  }

  static async open(adapter: StateAdapter, options: StoreOptions): Promise<Store> {
    if (options.initialState.revision !== 0) {
      throw new Error(`The initial state must be at revision 0, not ${options.initialState.revision}.`);
    }
    const loaded = await adapter.load();
    const state = deepFreeze(structuredClone(loaded?.state ?? options.initialState));
    validateState(state);
    return new Store(adapter, state, options.onSubscriberError ?? rethrowLater);
  }

  current(): DesiredState {
    return this.state;
  }

  /** Applies one change after every earlier one; on any error nothing changes or is stored. */
  apply(change: StoreChange, options: ApplyOptions): Promise<ApplyResult> {
    const result = this.queue.then(() => this.applyNow(change, options));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async applyNow(change: StoreChange, options: ApplyOptions): Promise<ApplyResult> {
    const before = this.state;
    if (options.ifRevision !== undefined && options.ifRevision !== before.revision) {
      throw new SluiceError(
        'SLUICE_REVISION_MISMATCH',
        `The state is at revision ${before.revision}, not ${options.ifRevision}; re-read it and retry.`,
      );
    }
    const after =
      change.kind === 'restoreRevision'
        ? restoreRevision(before, change.revision, await this.stateAt(change.revision))
        : applyChange(before, change);
    await this.adapter.commit({
      revision: after.revision,
      state: after,
      actor: options.actor,
      at: new Date().toISOString(),
      change,
      summary: summarize(change, after),
    });
    this.state = after;
    for (const subscriber of this.subscribers) {
      try {
        subscriber(after);
      } catch (error) {
        this.onSubscriberError(error);
      }
    }
    return { revision: after.revision, state: after, previous: before };
  }

  /** The state committed as `revision`; SLUICE_REVISION_NOT_FOUND when there is none. */
  private async stateAt(revision: number): Promise<DesiredState> {
    const state = revision >= 1 && revision <= this.state.revision ? await this.adapter.stateAt(revision) : undefined;
    if (state === undefined) {
      throw new SluiceError(
        'SLUICE_REVISION_NOT_FOUND',
        `Revision ${revision} does not exist; revisions run from 1 to the current revision, ${this.state.revision}.`,
      );
    }
    return state;
  }

  /** Calls `fn` with the new state after each commit; returns the unsubscribe function. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => {
      this.subscribers.delete(fn);
    };
  }

  /** Audit entries, newest first. */
  audit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.adapter.audit(query);
  }

  /** Waits for queued changes, then closes the adapter. */
  async close(): Promise<void> {
    await this.queue;
    await this.adapter.close();
  }
}
