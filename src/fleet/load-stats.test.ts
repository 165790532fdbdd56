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

describe('LoadStats bounds', () => {
  it('adds a report arriving within a second of the same proxy and cluster to its sample, so a flood keeps one', () => {
    let now = 0;
    const stats = new LoadStats(() => now);
    for (let i = 0; i < 10_000; i++) stats.report([report('a', 1, 1)]);
    now = 999;
    stats.report([report('a', 1, 0)]);
    expect(stats.kept()).toEqual({ samples: 1, proxies: 1, clusters: 1 });
    expect(stats.totals('a', 0)).toEqual({ requests: 20_001, errors: 10_000 });
    now = 1000;
    stats.report([report('a', 1, 0), { ...report('a', 1, 0), nodeId: 'other' }]);
    expect(stats.kept().samples).toBe(3);
    expect(stats.reportingNodes('a', 1000)).toEqual(new Set(['n', 'other']));
  });

  it('keeps at most samplesPerProxy for one proxy and counts what it drops; other proxies are unaffected', () => {
    let now = 0;
    const stats = new LoadStats(() => now, 60_000, { samplesPerProxy: 3, samples: 100 });
    for (let i = 0; i < 5; i++) {
      stats.report([report('a', 1, 0)]);
      now += 1000;
    }
    stats.report([{ ...report('a', 1, 0), nodeId: 'quiet' }]);
    expect(stats.droppedReports().get('proxy-limit')).toBe(2);
    expect(stats.kept()).toEqual({ samples: 4, proxies: 2, clusters: 1 });
    expect(stats.reportingNodes('a', 3000)).toEqual(new Set(['quiet']));
    // The since-start totals count every served report: they are one number per cluster.
    expect(stats.totalsSinceStart('a')).toEqual({ requests: 6, errors: 0 });
  });

  it('forgets the oldest samples first past the total bound, counting them', () => {
    let now = 0;
    const stats = new LoadStats(() => now, 60_000, { samplesPerProxy: 100, samples: 4 });
    for (let i = 0; i < 6; i++) {
      stats.report([{ ...report('a', 1, 0), nodeId: `p${i}` }]);
      now += 1000;
    }
    expect(stats.kept()).toEqual({ samples: 4, proxies: 4, clusters: 1 });
    expect(stats.droppedReports().get('total-limit')).toBe(2);
    expect(stats.reportingNodes('a', 0)).toEqual(new Set(['p2', 'p3', 'p4', 'p5']));
  });

  it('forgets a proxy and a cluster with their last sample leaving the window', () => {
    let now = 0;
    const stats = new LoadStats(() => now, 10_000);
    stats.report([report('a', 1, 0), { ...report('b', 1, 0), nodeId: 'gone' }]);
    now = 5000;
    stats.report([report('a', 1, 0)]);
    now = 12_000;
    expect(stats.kept()).toEqual({ samples: 1, proxies: 1, clusters: 1 });
    expect(stats.totals('b', 0)).toEqual({ requests: 0, errors: 0 });
    now = 16_000;
    expect(stats.kept()).toEqual({ samples: 0, proxies: 0, clusters: 0 });
  });

  it('counts dropped reports on unserved clusters only when they claim traffic, and keeps nothing of them', () => {
    const stats = new LoadStats(() => 0);
    stats.drop([report('invented', 0, 0), report('invented', 3, 1), { ...report('idle', 0, 0), issued: 2 }]);
    expect(stats.droppedReports().get('unknown-cluster')).toBe(2);
    expect(stats.isReported('invented')).toBe(false);
    expect(stats.kept()).toEqual({ samples: 0, proxies: 0, clusters: 0 });
  });
});
