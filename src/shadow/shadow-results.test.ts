// Shadow results as tables: Wilson's 95 % score interval against published values, the
// report's counts — each outcome counted once, disagreements kept newest first, at most 20, with
// both answers' text or, with `keep: hashes`, only their hashes — and the windowed totals a
// rollout's shadow metric reads from the ring of recent comparisons.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Shadow } from '../model/types.js';
import { RecentComparisons, ShadowResults, wilsonInterval } from './shadow-results.js';

const SHADOW: Shadow = { to: 'green', percent: 10, compare: { kind: 'numeric', path: '/p', absolute: 0.1 }, keep: 'answers' };
const answer = (text: string) => ({ status: 200, body: Buffer.from(text) });
const LATENCY = { user: 1, candidate: 2 };

describe('wilsonInterval', () => {
  it.each([
    [5, 10, 0.2366, 0.7634],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
    [81, 263, 0.2553, 0.3662],
  ])('%i of %i → [%f, %f]', (successes, n, low, high) => {
    const interval = wilsonInterval(successes, n);
    expect(interval.low).toBeCloseTo(low, 4);
    expect(interval.high).toBeCloseTo(high, 4);
  });
});

describe('ShadowResults', () => {
  it('counts each outcome once and keeps the last 20 disagreements, newest first', () => {
    const results = new ShadowResults('key', 0);
    for (let i = 0; i < 30; i++) {
      results.compared({ outcome: 'disagree', difference: 0.5, detail: `d${i}` }, `r${i}`, i, answer('{"p":1}'), answer('{"p":1.5}'), 'answers', LATENCY);
    }
    results.compared({ outcome: 'agree', difference: 0.25 }, 'ok', 30, answer('{}'), answer('{}'), 'answers', LATENCY);
    results.compared({ outcome: 'candidate-error', detail: 'status 503' }, 'bad', 31, answer('{}'), { status: 503, body: Buffer.alloc(0) }, 'answers', LATENCY);
    results.compared({ outcome: 'incomparable', detail: 'user failed' }, 'x', 32, answer('{}'), answer('{}'), 'answers', LATENCY);
    const report = results.report('predict', SHADOW, true);
    expect(report).toMatchObject({ samples: 32, agreed: 1, disagreed: 30, candidateErrors: 1, incomparable: 1 });
    expect(report.agreement?.rate).toBeCloseTo(1 / 32, 10);
    expect(report.difference).toEqual({ mean: (30 * 0.5 + 0.25) / 31, max: 0.5 });
    expect(report.disagreements.map((d) => d.requestId)).toEqual(['bad', ...Array.from({ length: 19 }, (_, i) => `r${29 - i}`)]);
    expect(report.disagreements[1]!.user).toEqual({
      status: 200,
      sha256: createHash('sha256').update('{"p":1}').digest('hex'),
      bytes: 7,
      text: '{"p":1}',
      encoding: 'utf8',
    });
  });

  it('keeps only hashes with keep: hashes, and base64 for binary answers', () => {
    const results = new ShadowResults('key', 0);
    results.compared({ outcome: 'disagree', detail: 'differ' }, 'r', 0, answer('secret'), { status: 200, body: Buffer.from([0, 255, 1]) }, 'hashes', LATENCY);
    results.compared({ outcome: 'disagree', detail: 'differ' }, 's', 1, answer('text'), { status: 200, body: Buffer.from([0, 255, 1]) }, 'answers', LATENCY);
    const [withText, hashed] = results.report('predict', SHADOW, true).disagreements;
    expect(hashed!.user.text).toBeUndefined();
    expect(hashed!.user.sha256).toBe(createHash('sha256').update('secret').digest('hex'));
    expect(withText!.candidate).toMatchObject({ text: 'AP8B', encoding: 'base64' });
  });

  it('reports latency percentiles per side and no agreement before any sample', () => {
    const results = new ShadowResults('key', 0);
    for (let ms = 1; ms <= 100; ms++) results.latencyOf('user', ms);
    const report = results.report('predict', SHADOW, true);
    expect(report.latencyMs).toEqual({ user: { samples: 100, p50: 50, p99: 99 }, candidate: { samples: 0, p50: null, p99: null } });
    expect(report.agreement).toBeNull();
    expect(report.difference).toBeNull();
  });
});

describe('windowed totals of recent comparisons', () => {
  it('counts the samples compared since the window start (not incomparable ones), with each side median latency', () => {
    const results = new ShadowResults('key', 0);
    const compare = (at: number, outcome: 'agree' | 'disagree' | 'candidate-error' | 'incomparable', user: number, candidate: number) =>
      results.compared(
        outcome === 'agree' ? { outcome } : { outcome, detail: 'x' },
        `r${at}`,
        at,
        answer('{}'),
        answer('{}'),
        'answers',
        { user, candidate },
      );
    compare(10, 'disagree', 100, 100); // before the window
    compare(20, 'agree', 4, 9);
    compare(21, 'disagree', 2, 7);
    compare(22, 'candidate-error', 3, 50);
    compare(23, 'incomparable', 1000, 1000);
    compare(24, 'agree', 1, 8);
    expect(results.totalsSince(20)).toEqual({ samples: 4, agreed: 2, userP50Ms: 2, candidateP50Ms: 8 });
    expect(results.totalsSince(25)).toEqual({ samples: 0, agreed: 0, userP50Ms: null, candidateP50Ms: null });
    expect(results.totalsSince(0)).toMatchObject({ samples: 5, agreed: 2 });
  });

  it('keeps only the last `capacity` comparisons, oldest overwritten first', () => {
    const ring = new RecentComparisons(3);
    for (let at = 1; at <= 5; at++) ring.add(at, at % 2 === 1, at, 10 * at);
    // 3, 4 and 5 are kept: 3 and 5 agreed.
    expect(ring.totalsSince(0)).toEqual({ samples: 3, agreed: 2, userP50Ms: 4, candidateP50Ms: 40 });
    expect(ring.totalsSince(5)).toEqual({ samples: 1, agreed: 1, userP50Ms: 5, candidateP50Ms: 50 });
  });
});
