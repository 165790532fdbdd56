import { describe, expect, it } from 'vitest';
import { LoadStats } from './load-stats.js';

function report(cluster: string, successful: number, errors: number) {
  return { nodeId: 'n', cluster, successful, errors, issued: successful + errors, intervalMs: 2000 };
}

describe('LoadStats', () => {
  it('sums requests and errors per cluster from a point in time on', () => {
    let now = 1000;
    const stats = new LoadStats(() => now);
    stats.report([report('a', 5, 1), report('b', 3, 0)]);
    now = 2000;
    stats.report([report('a', 10, 0)]);
    expect(stats.totals('a', 0)).toEqual({ requests: 16, errors: 1 });
    expect(stats.totals('a', 1500)).toEqual({ requests: 10, errors: 0 });
    expect(stats.totals('b', 0)).toEqual({ requests: 3, errors: 0 });
    expect(stats.totals('c', 0)).toEqual({ requests: 0, errors: 0 });
  });

  it('knows which clusters were reported even without traffic, and forgets old samples', () => {
    let now = 0;
    const stats = new LoadStats(() => now, 10_000);
    stats.report([report('idle', 0, 0), report('busy', 1, 0)]);
    expect(stats.isReported('idle')).toBe(true);
    expect(stats.isReported('never')).toBe(false);
    now = 20_000;
    stats.report([report('busy', 2, 2)]);
    expect(stats.totals('busy', 0)).toEqual({ requests: 4, errors: 2 });
  });
});

describe('LoadStats totals since start', () => {
  it('sum every report over every node and never forget, past the retention window too', () => {
    let now = 0;
    const stats = new LoadStats(() => now, 10_000);
    stats.report([report('a', 5, 1), { ...report('a', 2, 2), nodeId: 'other' }, report('idle', 0, 0)]);
    now = 60_000;
    stats.report([report('a', 3, 0)]);
    expect(stats.totals('a', 0)).toEqual({ requests: 3, errors: 0 });
    expect(stats.totalsSinceStart('a')).toEqual({ requests: 13, errors: 3 });
    expect(stats.totalsSinceStart('idle')).toEqual({ requests: 0, errors: 0 });
    expect(stats.totalsSinceStart('never')).toEqual({ requests: 0, errors: 0 });
  });
});
