// Shadow results as tables: Wilson's 95 % score interval against published values, and the
// report's counts — each outcome counted once, disagreements kept newest first, at most 20, with
// both answers' text or, with `keep: hashes`, only their hashes.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Shadow } from '../model/types.js';
import { ShadowResults, wilsonInterval } from './shadow-results.js';

const SHADOW: Shadow = { to: 'green', percent: 10, compare: { kind: 'numeric', path: '/p', absolute: 0.1 }, keep: 'answers' };
const answer = (text: string) => ({ status: 200, body: Buffer.from(text) });

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
      results.compared({ outcome: 'disagree', difference: 0.5, detail: `d${i}` }, `r${i}`, i, answer('{"p":1}'), answer('{"p":1.5}'), 'answers');
    }
    results.compared({ outcome: 'agree', difference: 0.25 }, 'ok', 30, answer('{}'), answer('{}'), 'answers');
    results.compared({ outcome: 'candidate-error', detail: 'status 503' }, 'bad', 31, answer('{}'), { status: 503, body: Buffer.alloc(0) }, 'answers');
    results.compared({ outcome: 'incomparable', detail: 'user failed' }, 'x', 32, answer('{}'), answer('{}'), 'answers');
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
    results.compared({ outcome: 'disagree', detail: 'differ' }, 'r', 0, answer('secret'), { status: 200, body: Buffer.from([0, 255, 1]) }, 'hashes');
    results.compared({ outcome: 'disagree', detail: 'differ' }, 's', 1, answer('text'), { status: 200, body: Buffer.from([0, 255, 1]) }, 'answers');
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
