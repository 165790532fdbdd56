// Commit events for the journal: one `revision` per commit of the desired state, from its audit
// entry (actor, summary, what kind of change, which service or listener, that service's weights
// after it), then one `rollout` per rollout decision the commit recorded, read from the rollouts'
// timelines. Driven by the store's commit notifications; reads the audit log, never writes the state.

import { describeDecision, newDecisions } from '../model/rollout.js';
import type { DesiredState } from '../model/types.js';
import type { StoreChange } from '../state/changes.js';
import type { AuditEntry, AuditQuery } from '../state/state-adapter.js';
import type { RevisionEvent, RolloutEvent } from '../api/events.js';
import type { EventJournal } from './journal.js';

export interface CommittedStore {
  current(): DesiredState;
  subscribe(fn: (state: DesiredState) => void): () => void;
  audit(query: AuditQuery): Promise<AuditEntry[]>;
}

/** Audit entries read per notification (several land at once only when catching up with other replicas). */
const MAX_ENTRIES_PER_NOTIFICATION = 100;

/** What a change is about: the service or the listener it names. */
function subjectOf(change: StoreChange): { service: string } | { listener: string } | { restored: number } {
  switch (change.kind) {
    case 'putListener':
    case 'deleteListener':
      return { listener: change.name };
    case 'restoreRevision':
      return { restored: change.revision };
    default:
      return { service: change.name };
  }
}

/**
 * The event of one commit; `state` is the state a commit made (the newest of a batch): the weights
 * of the service the entry is about are told only when it is that entry's own state and the
 * service still exists in it.
 */
export function revisionEvent(entry: AuditEntry, state?: DesiredState): RevisionEvent {
  const subject = subjectOf(entry.change);
  const service = 'service' in subject && state?.revision === entry.revision && Object.hasOwn(state.services, subject.service) ? state.services[subject.service] : undefined;
  return {
    type: 'revision',
    at: entry.at,
    revision: entry.revision,
    actor: entry.actor,
    change: entry.change.kind,
    summary: entry.summary,
    ...subject,
    ...(service === undefined ? {} : { weights: service.weights }),
  };
}

/** One `rollout` event per decision recorded between `before` and `after`. */
export function rolloutEvents(before: DesiredState, after: DesiredState): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  for (const [service, rollout] of Object.entries(after.rollouts ?? {})) {
    const previous = before.rollouts !== undefined && Object.hasOwn(before.rollouts, service) ? before.rollouts[service] : undefined;
    for (const decision of newDecisions(previous, rollout)) {
      events.push({
        ...decision,
        type: 'rollout',
        revision: after.revision,
        service,
        candidate: rollout.candidate,
        phase: rollout.phase,
        message: describeDecision(decision),
      });
    }
  }
  return events;
}

/**
 * Appends the events of every commit from now on, in commit order (a commit's audit entries are
 * read before the next commit's). Returns the function that stops it.
 */
export function recordCommits(store: CommittedStore, journal: Pick<EventJournal, 'append'>): () => void {
  let previous = store.current();
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;

  const record = async (before: DesiredState, state: DesiredState): Promise<void> => {
    const count = Math.min(state.revision - before.revision, MAX_ENTRIES_PER_NOTIFICATION);
    if (count <= 0) return;
    const entries = (await store.audit({ limit: count, before: state.revision + 1 }).catch(() => []))
      .filter((entry) => entry.revision > before.revision)
      .reverse();
    if (stopped) return;
    for (const entry of entries) journal.append(revisionEvent(entry, state));
    for (const event of rolloutEvents(before, state)) journal.append(event);
  };

  const unsubscribe = store.subscribe((state) => {
    const before = previous;
    previous = state;
    queue = queue.then(() => record(before, state));
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
