// Pairs the two answers to one request (the user's and the candidate's, keyed by service and
// x-request-id) in bounded memory: at most `maxPending` requests and `maxPendingBytes` of bodies
// wait for their other half, the oldest leave first, and none waits longer than `ttlMs`. Pure
// bookkeeping with an injected clock; knows nothing of comparing.

import type { ObservedAnswer } from './ext-proc-service.js';

export interface AnswerPair {
  user: ObservedAnswer;
  candidate: ObservedAnswer;
}

/** An answer whose other half never came (expired, or pushed out by newer ones). */
export interface Unpaired {
  service: string;
  side: ObservedAnswer['side'];
  reason: 'expired' | 'evicted';
}

export interface AnswerPairsOptions {
  maxPending: number;
  maxPendingBytes: number;
  ttlMs: number;
  now: () => number;
}

interface Pending {
  answer: ObservedAnswer;
  at: number;
}

export class AnswerPairs {
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;

  constructor(private readonly options: AnswerPairsOptions) {}

  get size(): number {
    return this.pending.size;
  }

  get bytes(): number {
    return this.pendingBytes;
  }

  /** Adds one answer: its pair when the other half was waiting; `unpaired` lists what had to leave. */
  add(answer: ObservedAnswer): { pair?: AnswerPair; unpaired: Unpaired[] } {
    const unpaired = this.expire();
    const key = `${answer.service}\n${answer.requestId}`;
    const waiting = this.pending.get(key);
    if (waiting && waiting.answer.side !== answer.side) {
      this.remove(key, waiting);
      const pair = answer.side === 'user' ? { user: answer, candidate: waiting.answer } : { user: waiting.answer, candidate: answer };
      return { pair, unpaired };
    }
    // The same side twice for one request id (a client reusing ids): the newer one waits.
    if (waiting) this.remove(key, waiting);
    this.pending.set(key, { answer, at: this.options.now() });
    this.pendingBytes += answer.answer.body.length;
    for (const [oldKey, old] of this.pending) {
      if (this.pending.size <= this.options.maxPending && this.pendingBytes <= this.options.maxPendingBytes) break;
      this.remove(oldKey, old);
      unpaired.push({ service: old.answer.service, side: old.answer.side, reason: 'evicted' });
    }
    return { unpaired };
  }

  /** Drops every answer that waited longer than the time to live (oldest first: the map keeps insertion order). */
  expire(): Unpaired[] {
    const unpaired: Unpaired[] = [];
    const oldest = this.options.now() - this.options.ttlMs;
    for (const [key, entry] of this.pending) {
      if (entry.at > oldest) break;
      this.remove(key, entry);
      unpaired.push({ service: entry.answer.service, side: entry.answer.side, reason: 'expired' });
    }
    return unpaired;
  }

  private remove(key: string, entry: Pending): void {
    this.pending.delete(key);
    this.pendingBytes -= entry.answer.answer.body.length;
  }
}
