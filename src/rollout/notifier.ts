// Tells webhooks of rollouts' phase changes: it follows the store's commits (its own, a person's,
// other replicas'), turns each rollout's new decisions into messages (notifications.ts) and hands
// them to the delivery, only while this replica leads rollouts; a message finally not delivered is
// recorded in the rollout's timeline through the store. It sends nothing that was decided before it started.

import type { RolloutNote } from '../model/rollout.js';
import type { DesiredState } from '../model/types.js';
import { notificationsFor, type RolloutNotification } from './notifications.js';
import type { DeliveryOutcome } from './webhook-delivery.js';

const ROLLOUT_ACTOR = 'rollout';

/** The store as the notifier uses it: read, subscribe, and note a failed notification. */
export interface NotifierStore {
  current(): DesiredState;
  subscribe(fn: (state: DesiredState) => void): () => void;
  apply(change: RolloutNote, options: { actor: string }): Promise<unknown>;
}

export interface RolloutNotifierOptions {
  store: NotifierStore;
  /** Queues one message for one webhook; resolves with its outcome (never rejects). */
  deliver: (url: string, notification: RolloutNotification) => Promise<DeliveryOutcome>;
  /** The webhooks of a rollout that names none (`notify` absent). */
  defaultUrls: readonly string[];
  clock: () => number;
  /** With several replicas only the leader notifies; absent, this one always does. */
  isLeader?: () => boolean;
  /** Hears about a failure that could not be recorded in the timeline. */
  onError?: (error: unknown, service: string) => void;
}

/** Where a message went, for the timeline: the host only (a webhook's path may be its secret). */
function hostOf(url: string): string {
  return new URL(url).host;
}

export class RolloutNotifier {
  private seen: DesiredState | undefined;
  private stopListening: (() => void) | undefined;
  private stopped = false;
  /** Messages handed to the delivery whose outcome (and its record, on failure) is not in yet. */
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly options: RolloutNotifierOptions) {}

  /** From now on: what is committed before is never sent (a restart does not repeat old news). */
  start(): void {
    this.stopped = false;
    this.seen = this.options.store.current();
    this.stopListening = this.options.store.subscribe((state) => this.committed(state));
  }

  /**
   * Stops following commits and recording failures at once; resolves once the messages handed
   * out have their outcome (close the delivery meanwhile to end them sooner).
   */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    this.stopListening = undefined;
    return this.idle();
  }

  /** Resolves once every message handed out so far has its outcome, a failure its record. */
  async idle(): Promise<void> {
    while (this.sending.size > 0) await Promise.all(this.sending);
  }

  private committed(state: DesiredState): void {
    const before = this.seen;
    this.seen = state;
    if (this.options.isLeader && !this.options.isLeader()) return;
    for (const rollout of Object.values(state.rollouts ?? {})) {
      const previous = before?.rollouts?.[rollout.service];
      if (previous === rollout) continue;
      const urls = rollout.notify ?? this.options.defaultUrls;
      if (urls.length === 0) continue;
      for (const notification of notificationsFor(previous, rollout, state.revision)) {
        for (const url of urls) {
          const sent = this.send(url, notification, rollout.startedAt).finally(() => this.sending.delete(sent));
          this.sending.add(sent);
        }
      }
    }
  }

  private async send(url: string, notification: RolloutNotification, startedAt: string): Promise<void> {
    const outcome = await this.options.deliver(url, notification);
    if (outcome.delivered || this.stopped) return;
    const note: RolloutNote = {
      kind: 'noteRollout',
      name: notification.service,
      startedAt,
      decision: {
        at: new Date(this.options.clock()).toISOString(),
        event: 'notification-failed',
        step: notification.step,
        actor: ROLLOUT_ACTOR,
        reason: `${notification.kind} notification to ${hostOf(url)} failed after ${outcome.attempts} attempt(s): ${outcome.error}`,
      },
    };
    try {
      await this.options.store.apply(note, { actor: ROLLOUT_ACTOR });
    } catch (error) {
      this.options.onError?.(error, notification.service);
    }
  }
}
