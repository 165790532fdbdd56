// Property: whatever answers arrive in whatever order, the pairing never holds more than its
// bounds (answers and bytes), every answer (one per request and side) ends exactly once — paired,
// expired or evicted — and a
// request's two halves that arrive within the time to live and the bounds are always paired.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerPairs } from './answer-pairs.js';
import type { ObservedAnswer } from './ext-proc-service.js';

function answer(requestId: string, side: ObservedAnswer['side'], bytes: number): ObservedAnswer {
  return {
    service: 'predict',
    side,
    requestId,
    answer: { status: 200, body: Buffer.alloc(bytes) },
    truncated: false,
    version: side === 'user' ? 'blue' : undefined,
    latencyMs: 1,
  };
}

const arrival = fc.record({
  id: fc.integer({ min: 0, max: 40 }),
  side: fc.constantFrom('user' as const, 'candidate' as const),
  bytes: fc.integer({ min: 0, max: 300 }),
  advanceMs: fc.integer({ min: 0, max: 400 }),
});

describe('AnswerPairs', () => {
  it('stays within its bounds and accounts for every answer once', () => {
    fc.assert(
      fc.property(fc.uniqueArray(arrival, { maxLength: 82, selector: (a) => `${a.id} ${a.side}` }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 100, max: 2000 }), (arrivals, maxPending, maxPendingBytes) => {
        let now = 0;
        const pairs = new AnswerPairs({ maxPending, maxPendingBytes, ttlMs: 1000, now: () => now });
        let paired = 0;
        let gone = 0;
        for (const { id, side, bytes, advanceMs } of arrivals) {
          now += advanceMs;
          const { pair, unpaired } = pairs.add(answer(String(id), side, bytes));
          gone += unpaired.length;
          if (pair) {
            paired += 2;
            expect(pair.user.side).toBe('user');
            expect(pair.candidate.side).toBe('candidate');
            expect(pair.user.requestId).toBe(pair.candidate.requestId);
          }
          expect(pairs.size).toBeLessThanOrEqual(maxPending);
          // One answer larger than the bound alone may wait; nothing more.
          expect(pairs.bytes <= maxPendingBytes || pairs.size <= 1).toBe(true);
        }
        now += 10_000;
        gone += pairs.expire().length;
        expect(pairs.size).toBe(0);
        expect(pairs.bytes).toBe(0);
        expect(paired + gone).toBe(arrivals.length);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('pairs the two halves of each request within the time to live, in either order', () => {
    let now = 0;
    const pairs = new AnswerPairs({ maxPending: 10, maxPendingBytes: 10_000, ttlMs: 1000, now: () => now });
    expect(pairs.add(answer('a', 'user', 10)).pair).toBeUndefined();
    expect(pairs.add(answer('b', 'candidate', 10)).pair).toBeUndefined();
    now = 999;
    expect(pairs.add(answer('b', 'user', 5)).pair?.candidate.requestId).toBe('b');
    expect(pairs.add(answer('a', 'candidate', 5)).pair?.user.requestId).toBe('a');
    expect(pairs.size).toBe(0);
  });

  it('lets an answer whose other half is late expire, and evicts the oldest past the bounds', () => {
    let now = 0;
    const pairs = new AnswerPairs({ maxPending: 2, maxPendingBytes: 10_000, ttlMs: 1000, now: () => now });
    pairs.add(answer('a', 'user', 1));
    pairs.add(answer('b', 'user', 1));
    expect(pairs.add(answer('c', 'user', 1)).unpaired).toEqual([{ service: 'predict', side: 'user', reason: 'evicted' }]);
    now = 1000;
    expect(pairs.add(answer('b', 'candidate', 1)).unpaired).toEqual([
      { service: 'predict', side: 'user', reason: 'expired' },
      { service: 'predict', side: 'user', reason: 'expired' },
    ]);
    expect(pairs.size).toBe(1);
  });
});
