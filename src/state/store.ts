// The store: the one way the desired state changes. It serializes changes, checks If-Match
// revisions, applies the pure change functions (reading a past revision's state to restore it),
// runs the check it is given on the result, persists each revision with its audit entry through a StateAdapter (catching up and applying
// again when another replica took the revision), then tells subscribers. A change that changes
// nothing writes nothing and keeps the revision. It knows nothing of HTTP or Envoy.

import { SluiceError } from '../errors.js';
import type { DesiredState } from '../model/types.js';
import { validateState } from '../model/validate.js';
import { applyChange, deepFreeze, restoreRevision, sameState, summarize, type StoreChange } from './changes.js';
import { EMPTY_STATE } from './revision-diff.js';
import type { AuditEntry, AuditQuery, StateAdapter } from './state-adapter.js';

export interface StoreOptions {
  /** The state used when nothing was ever committed; its revision must be 0. */
  initialState: DesiredState;
  /**
   * Called when a subscriber throws. The commit stands either way; by default the error is
   * rethrown outside the store (an uncaught exception) so that it cannot go unnoticed.
   */
  onSubscriberError?: (error: unknown) => void;
  /**
   * Checks each state a change would commit, given the current one (e.g. that every proxy would
   * accept it); throwing (a SluiceError) refuses the change before anything is stored. Not run on
   * states loaded from storage or caught up from other replicas: they are committed already.
   */
  checkState?: (next: DesiredState, current: DesiredState) => void;
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
  /**
   * True when the change would leave listeners, services and rollouts as they are: nothing was
   * stored, audited or pushed, and `revision` is the current one.
   */
  unchanged: boolean;
}

/** What `apply` would commit: the same answer without a revision of its own (nothing is written). */
export type PreviewResult = Omit<ApplyResult, 'revision'>;

/** The state a change leads to, checked and not yet committed. */
interface Computed {
  before: DesiredState;
  after: DesiredState;
  at: string;
  unchanged: boolean;
}

export type Subscriber = (state: DesiredState) => void;

/** Attempts per change when other replicas keep committing first (see `applyRetrying`). */
const MAX_COMMIT_ATTEMPTS = 64;
const CATCH_UP_RETRY_FIRST_MS = 100;
const CATCH_UP_RETRY_MAX_MS = 5000;

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
  /** A catch-up that failed is retried on a timer (shared store only). */
  private catchUpRetry: ReturnType<typeof setTimeout> | undefined;
  private closing = false;

  private constructor(
    private readonly adapter: StateAdapter,
    state: DesiredState,
    private readonly onSubscriberError: (error: unknown) => void,
    private readonly checkState: (next: DesiredState, current: DesiredState) => void,
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
    return new Store(adapter, state, options.onSubscriberError ?? rethrowLater, options.checkState ?? (() => undefined));
  }

  current(): DesiredState {
    return this.state;
  }

  /** Applies one change after every earlier one; on any error nothing changes or is stored. */
  apply(change: StoreChange, options: ApplyOptions): Promise<ApplyResult> {
    return this.enqueue(() => this.applyRetrying(change, options));
  }

  /**
   * What `apply` would commit now, after every change queued before it: the same change
   * functions, validation, check, If-Match and guardrails, so the same refusals; nothing is
   * stored, audited or told to subscribers.
   */
  preview(change: StoreChange, options: ApplyOptions): Promise<PreviewResult> {
    return this.enqueue(async () => {
      if (this.adapter.watch !== undefined) await this.catchUp();
      const { before, after, unchanged } = await this.compute(change, options);
      return { state: after, previous: before, unchanged };
    });
  }

  /**
   * With a store shared by replicas: follow the commits other replicas make (catching up on every
   * doorbell and reconnect). `onStatus` hears whether the store is reachable; when it is not,
   * sluice keeps its last state.
   */
  async followSharedState(onStatus: (reachable: boolean, error?: Error) => void): Promise<void> {
    let delayMs = CATCH_UP_RETRY_FIRST_MS;
    const catchUpNow = (): void => {
      clearTimeout(this.catchUpRetry);
      this.catchUpRetry = undefined;
      void this.enqueue(() => this.catchUp()).then(
        () => {
          delayMs = CATCH_UP_RETRY_FIRST_MS;
          onStatus(true);
        },
        (error: Error) => {
          onStatus(false, error);
          // The doorbell may not ring again for a while: try again on our own, backing off.
          if (this.closing) return;
          this.catchUpRetry = setTimeout(catchUpNow, delayMs);
          delayMs = Math.min(delayMs * 2, CATCH_UP_RETRY_MAX_MS);
        },
      );
    };
    await this.adapter.watch?.(catchUpNow, (error) => onStatus(false, error));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Takes the newest committed state if another replica moved ahead, and tells subscribers. */
  private async catchUp(): Promise<void> {
    const loaded = await this.storage(() => this.adapter.load());
    if (!loaded || loaded.state.revision <= this.state.revision) return;
    const state = deepFreeze(structuredClone(loaded.state));
    validateState(state);
    this.publish(state);
  }

  /**
   * Storage failures become a clear 503; sluice keeps serving what it has. A commit to a shared
   * store that failed mid-way may still have landed (the connection can drop after the database
   * committed), so that message says the outcome is unknown instead of "nothing changed".
   */
  private async storage<T>(operation: () => Promise<T>, what: 'read' | 'commit' = 'read'): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      const reason = (error as Error).message;
      const outcome =
        what === 'commit' && this.adapter.watch !== undefined
          ? 'the change was not confirmed and may or may not have been stored: read the state before retrying'
          : 'nothing changed';
      throw new SluiceError('SLUICE_STORE_UNAVAILABLE', `The state store cannot be reached (${reason}); ${outcome}.`);
    }
  }

  /**
   * Another replica may commit first (the adapter answers `conflict`): catch up and apply the
   * change again on the newer state, its If-Match checked against that state. Each conflict means
   * another replica's commit landed, so k replicas writing at once all succeed within k attempts;
   * the bound only stops a replica that keeps losing under endless contention.
   */
  private async applyRetrying(change: StoreChange, options: ApplyOptions): Promise<ApplyResult> {
    // With replicas, start from the newest state: If-Match refers to what any replica answered.
    if (this.adapter.watch !== undefined) await this.catchUp();
    for (let attempt = 1; ; attempt++) {
      const result = await this.applyNow(change, options);
      if (result !== 'conflict') return result;
      const before = this.state.revision;
      await this.catchUp();
      if (this.state.revision === before) {
        throw new SluiceError('SLUICE_STORE_UNAVAILABLE', `The state store refused revision ${before + 1} yet holds nothing newer; nothing changed.`);
      }
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw new SluiceError('SLUICE_STORE_UNAVAILABLE', `Other replicas committed first ${attempt} times in a row; nothing changed. Retry.`);
      }
    }
  }

  private publish(state: DesiredState): void {
    this.state = state;
    for (const subscriber of this.subscribers) {
      try {
        subscriber(state);
      } catch (error) {
        this.onSubscriberError(error);
      }
    }
  }

  /** The change applied to the current state and checked as a commit would be; throws what a commit would refuse. */
  private async compute(change: StoreChange, options: ApplyOptions): Promise<Computed> {
    const before = this.state;
    if (options.ifRevision !== undefined && options.ifRevision !== before.revision) {
      throw new SluiceError(
        'SLUICE_REVISION_MISMATCH',
        `The state is at revision ${before.revision}, not ${options.ifRevision}; re-read it and retry.`,
      );
    }
    const at = new Date().toISOString();
    const context = { at, actor: options.actor };
    const after =
      change.kind === 'restoreRevision'
        ? restoreRevision(before, change.revision, await this.stateAt(change.revision), context)
        : applyChange(before, change, context);
    if (sameState(before, after)) return { before, after: before, at, unchanged: true };
    this.checkState(after, before);
    return { before, after, at, unchanged: false };
  }

  /** Applies the change to the current state and commits it; `conflict` when another replica took the revision. */
  private async applyNow(change: StoreChange, options: ApplyOptions): Promise<ApplyResult | 'conflict'> {
    const { before, after, at, unchanged } = await this.compute(change, options);
    if (unchanged) return { revision: before.revision, state: before, previous: before, unchanged: true };
    const entry = { revision: after.revision, state: after, actor: options.actor, at, change, summary: summarize(change, after) };
    if ((await this.storage(() => this.adapter.commit(entry), 'commit')) === 'conflict') return 'conflict';
    this.publish(after);
    return { revision: after.revision, state: after, previous: before, unchanged: false };
  }

  /**
   * The states committed as `revision` and as the one before it (the empty state before revision
   * 1); SLUICE_REVISION_NOT_FOUND when `revision` does not exist or either state was pruned.
   */
  async statesAround(revision: number): Promise<{ before: DesiredState; after: DesiredState }> {
    const after = await this.stateAt(revision);
    if (revision === 1) return { before: EMPTY_STATE, after };
    const before = await this.storage(() => this.adapter.stateAt(revision - 1));
    if (typeof before !== 'object') {
      throw new SluiceError(
        'SLUICE_REVISION_NOT_FOUND',
        `Revision ${revision} is compared with revision ${revision - 1}, whose state was pruned by the revision retention (--revision-retention), which keeps only the latest past revisions; its audit entry remains.`,
      );
    }
    return { before, after };
  }

  /** The state committed as `revision`; SLUICE_REVISION_NOT_FOUND when there is none. */
  private async stateAt(revision: number): Promise<DesiredState> {
    const state = revision >= 1 && revision <= this.state.revision ? await this.storage(() => this.adapter.stateAt(revision)) : undefined;
    if (state === 'pruned') {
      throw new SluiceError(
        'SLUICE_REVISION_NOT_FOUND',
        `Revision ${revision}'s state was pruned by the revision retention (--revision-retention), which keeps only the latest past revisions; its audit entry remains.`,
      );
    }
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
    return this.storage(() => this.adapter.audit(query));
  }

  /** Waits for queued changes, then closes the adapter. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.catchUpRetry);
    await this.queue;
    await this.adapter.close();
  }
}
