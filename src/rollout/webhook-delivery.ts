// Delivers JSON messages to webhooks: one POST per message, each attempt bounded by a timeout,
// retried with doubling backoff a few times, one message at a time per URL (in order) behind a
// bounded queue. Never throws and never blocks its caller; it only reports each message's outcome.
// Knows nothing of rollouts or the store (notifier.ts decides what to send and records failures).

import { setTimeout as sleepFor } from 'node:timers/promises';

export type DeliveryOutcome = { delivered: true; attempts: number } | { delivered: false; attempts: number; error: string };

export interface WebhookDeliveryOptions {
  /** The HTTP client (tests give a fake). */
  fetch?: typeof fetch;
  /** Waits between attempts; ends early (rejecting) when `signal` aborts (tests record the waits instead). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A signal that aborts once an attempt has taken `ms` (tests abort it themselves). */
  timeoutSignal?: (ms: number) => AbortSignal;
  /** Attempts per message (default 4). */
  attempts?: number;
  /** The wait before the second attempt, doubled before each next one (default 1000 ms). */
  backoffMs?: number;
  /** How long one attempt may take (default 5000 ms). */
  attemptTimeoutMs?: number;
  /** Messages waiting per URL beyond the one being delivered; more are refused at once (default 100). */
  maxQueued?: number;
}

const DEFAULTS = { attempts: 4, backoffMs: 1000, attemptTimeoutMs: 5000, maxQueued: 100 };

/** A receiver's answer that retrying cannot change (a gone or refused hook); 408 and 429 are worth retrying. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'sluice is stopping';
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code !== undefined) return cause.code;
  return error instanceof Error ? (cause?.message ?? error.message) : String(error);
}

export class WebhookDelivery {
  private readonly settings: Required<Omit<WebhookDeliveryOptions, 'fetch' | 'sleep' | 'timeoutSignal'>>;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly timeoutSignal: (ms: number) => AbortSignal;
  /** Per URL: the end of the last message queued, and how many are waiting or being delivered. */
  private readonly queues = new Map<string, { tail: Promise<unknown>; size: number }>();
  private readonly closing = new AbortController();

  constructor(options: WebhookDeliveryOptions = {}) {
    this.settings = {
      attempts: options.attempts ?? DEFAULTS.attempts,
      backoffMs: options.backoffMs ?? DEFAULTS.backoffMs,
      attemptTimeoutMs: options.attemptTimeoutMs ?? DEFAULTS.attemptTimeoutMs,
      maxQueued: options.maxQueued ?? DEFAULTS.maxQueued,
    };
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal, ref: false }));
    this.timeoutSignal = options.timeoutSignal ?? ((ms) => AbortSignal.timeout(ms));
  }

  /** Queues `body` for `url`; the outcome once it was delivered or given up. */
  deliver(url: string, body: unknown): Promise<DeliveryOutcome> {
    if (this.closing.signal.aborted) return Promise.resolve({ delivered: false, attempts: 0, error: 'sluice is stopping' });
    const queue = this.queues.get(url) ?? { tail: Promise.resolve(), size: 0 };
    if (queue.size > this.settings.maxQueued) {
      return Promise.resolve({ delivered: false, attempts: 0, error: `${queue.size} messages already queued for this webhook` });
    }
    queue.size++;
    const outcome = queue.tail.then(() => this.attemptAll(url, JSON.stringify(body)));
    queue.tail = outcome.finally(() => {
      queue.size--;
      if (queue.size === 0 && this.queues.get(url) === queue) this.queues.delete(url);
    });
    this.queues.set(url, queue);
    return outcome;
  }

  /** Resolves once every queued message has its outcome. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()].map((queue) => queue.tail));
  }

  /** Gives up every queued and running delivery now (their outcome: not delivered) and takes no more. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.idle();
  }

  private async attemptAll(url: string, body: string): Promise<DeliveryOutcome> {
    const { attempts, backoffMs, attemptTimeoutMs } = this.settings;
    let error = 'not attempted';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        try {
          await this.sleep(backoffMs * 2 ** (attempt - 2), this.closing.signal);
        } catch {
          return { delivered: false, attempts: attempt - 1, error: 'sluice is stopping' };
        }
      }
      if (this.closing.signal.aborted) return { delivered: false, attempts: attempt - 1, error: 'sluice is stopping' };
      const signal = AbortSignal.any([this.timeoutSignal(attemptTimeoutMs), this.closing.signal]);
      try {
        const response = await this.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return { delivered: true, attempts: attempt };
        error = `HTTP ${response.status}`;
        if (isPermanent(response.status)) return { delivered: false, attempts: attempt, error };
      } catch (failure) {
        error = describeError(failure, attemptTimeoutMs);
      }
    }
    return { delivered: false, attempts, error };
  }
}
