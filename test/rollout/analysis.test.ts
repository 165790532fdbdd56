// Analysis: each metric judged over one window through fake sources (fleet totals, Prometheus,
// webhook, shadow comparisons), the tri-state combination, which metrics each kind of step
// measures, and the real HTTP sources against a local server that answers like Prometheus and
// like a feedback webhook.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutMetric } from '../../src/model/types.js';
import { runAnalysis, type MetricSources, type ShadowTotals } from '../../src/rollout/analysis.js';
import { queryPrometheus, readWebhook } from '../../src/rollout/http-metrics.js';
import { holding, rolloutBody, T0 } from './fixtures.js';

function rolloutWith(metrics: RolloutMetric[], minRequests = 10) {
  return holding(T0, {}, rolloutBody({ analysis: { interval: '20s', minRequests, failureLimit: 0, inconclusiveLimit: 2, metrics } }));
}

function sources(overrides: Partial<MetricSources> = {}): MetricSources & { fleetCalls: unknown[][]; shadowCalls: unknown[][] } {
  const fleetCalls: unknown[][] = [];
  const shadowCalls: unknown[][] = [];
  return {
    fleetCalls,
    shadowCalls,
    fleet: (...args) => {
      fleetCalls.push(args);
      return { requests: 100, errors: 1 };
    },
    prometheus: async () => 0.2,
    webhook: async () => 0.9,
    shadow: (...args) => {
      shadowCalls.push(args);
      return { samples: 600, agreed: 597, userP50Ms: 3, candidateP50Ms: 4 };
    },
    ...overrides,
  };
}

const fleet: RolloutMetric = { name: 'errors', source: 'fleet', maxErrorRate: 0.05 };
const window = { from: T0, to: T0 + 20_000 };

describe('runAnalysis', () => {
  it('judges the fleet error rate of the candidate since the window start, with its sample size', async () => {
    const s = sources();
    const result = await runAnalysis(rolloutWith([fleet]), window, s);
    expect(s.fleetCalls).toEqual([['predict', 'green', T0]]);
    expect(result).toEqual({
      outcome: 'pass',
      measurements: [{ metric: 'errors', outcome: 'pass', value: 0.01, requests: 100, errors: 1 }],
      ...window,
    });
  });

  it('fails an error rate above maxErrorRate', async () => {
    const result = await runAnalysis(rolloutWith([fleet]), window, sources({ fleet: () => ({ requests: 20, errors: 2 }) }));
    expect(result.outcome).toBe('fail');
    expect(result.measurements[0]).toEqual({
      metric: 'errors',
      outcome: 'fail',
      value: 0.1,
      requests: 20,
      errors: 2,
      reason: 'error rate 0.1 (2 of 20) is above maxErrorRate 0.05',
    });
  });

  it('is inconclusive below minRequests — and with no request at all even when minRequests is 0', async () => {
    const few = await runAnalysis(rolloutWith([fleet]), window, sources({ fleet: () => ({ requests: 9, errors: 9 }) }));
    expect(few.outcome).toBe('inconclusive');
    expect(few.measurements[0]?.reason).toBe('9 request(s) to green, fewer than minRequests 10');
    const none = await runAnalysis(rolloutWith([fleet], 0), window, sources({ fleet: () => ({ requests: 0, errors: 0 }) }));
    expect(none.outcome).toBe('inconclusive');
  });

  describe('a relative fleet metric (candidate against stable over the same window)', () => {
    const relative: RolloutMetric = { name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01, confidence: 0.95 };
    const byVersion = (green: { requests: number; errors: number }, blue: { requests: number; errors: number }) =>
      sources({ fleet: (_service, version) => (version === 'green' ? green : blue) });

    it("reads both versions' totals since the same window start", async () => {
      const s = sources();
      await runAnalysis(rolloutWith([relative]), window, s);
      expect(s.fleetCalls).toEqual([
        ['predict', 'green', T0],
        ['predict', 'blue', T0],
      ]);
    });

    it('fails a candidate shown worse than stable by more than the increase, naming both rates and the bound', async () => {
      const result = await runAnalysis(rolloutWith([relative]), window, byVersion({ requests: 2400, errors: 98 }, { requests: 2380, errors: 24 }));
      expect(result.outcome).toBe('fail');
      const [m] = result.measurements;
      expect(m).toMatchObject({ metric: 'errors-vs-stable', outcome: 'fail', requests: 2400, errors: 98 });
      expect(m?.value).toBeCloseTo(98 / 2400 - 24 / 2380, 12);
      expect(m?.comparison).toMatchObject({ stableRequests: 2380, stableErrors: 24, maxIncrease: 0.01, confidence: 0.95 });
      expect(m?.comparison?.lower).toBeGreaterThan(0.01);
      expect(m?.reason).toMatch(
        /^error rate 4\.08% \(98 of 2400\) vs stable 1\.01% \(24 of 2380\), \+3\.07 points; the increase is at least \+2\.\d+ > \+1 at 95%: above maxErrorRateIncrease$/,
      );
    });

    it('passes a candidate as bad as a bad stable (8% each), which an absolute 5% would fail', async () => {
      const eight = { requests: 1000, errors: 80 };
      const relativeWide: RolloutMetric = { ...relative, maxErrorRateIncrease: 0.05 };
      const result = await runAnalysis(rolloutWith([relativeWide, fleet]), window, byVersion(eight, eight));
      expect(result.measurements.map((m) => m.outcome)).toEqual(['pass', 'fail']);
      expect(result.measurements[0]?.value).toBe(0);
      expect(result.measurements[0]?.reason).toBeUndefined();
      expect(result.measurements[0]?.comparison?.upper).toBeLessThanOrEqual(0.05);
    });

    it('is inconclusive while the samples cannot tell, and says so', async () => {
      const result = await runAnalysis(rolloutWith([relative]), window, byVersion({ requests: 60, errors: 3 }, { requests: 60, errors: 1 }));
      expect(result.outcome).toBe('inconclusive');
      expect(result.measurements[0]?.reason).toMatch(/the samples cannot tell yet whether it is within maxErrorRateIncrease$/);
    });

    it.each([
      ['the candidate', { requests: 9, errors: 0 }, { requests: 500, errors: 0 }, '9 request(s) to green, fewer than minRequests 10'],
      ['stable', { requests: 500, errors: 0 }, { requests: 3, errors: 0 }, '3 request(s) to stable blue, fewer than minRequests 10'],
      [
        'stable (no traffic at all, as at weight 100)',
        { requests: 500, errors: 400 },
        { requests: 0, errors: 0 },
        'no requests to stable blue in this window: a relative metric needs traffic on both versions (a step at weight 100 sends stable none)',
      ],
    ])('is inconclusive when %s has fewer than minRequests', async (_who, green, blue, reason) => {
      const result = await runAnalysis(rolloutWith([relative]), window, byVersion(green, blue));
      expect(result.outcome).toBe('inconclusive');
      expect(result.measurements[0]).toMatchObject({ outcome: 'inconclusive', reason, comparison: { stableRequests: blue.requests } });
      expect(result.measurements[0]?.value).toBeUndefined();
    });
  });

  it('checks Prometheus and webhook values against max and min', async () => {
    const metrics: RolloutMetric[] = [
      { name: 'p99', source: 'prometheus', url: 'http://prom', query: 'q', max: 0.5 },
      { name: 'quality', source: 'webhook', url: 'http://hook', min: 0.8, max: 1 },
    ];
    expect((await runAnalysis(rolloutWith(metrics), window, sources())).outcome).toBe('pass');
    const low = await runAnalysis(rolloutWith(metrics), window, sources({ webhook: async () => 0.7 }));
    expect(low.outcome).toBe('fail');
    expect(low.measurements[1]).toEqual({ metric: 'quality', outcome: 'fail', value: 0.7, reason: '0.7 is below min 0.8' });
  });

  it('counts a source that gives no value as inconclusive, and any failure as the outcome', async () => {
    const metrics: RolloutMetric[] = [fleet, { name: 'p99', source: 'prometheus', url: 'http://prom', query: 'q', max: 0.5 }];
    const down = sources({ prometheus: async () => Promise.reject(new Error('connection refused')) });
    const result = await runAnalysis(rolloutWith(metrics), window, down);
    expect(result.outcome).toBe('inconclusive');
    expect(result.measurements[1]).toEqual({ metric: 'p99', outcome: 'inconclusive', reason: 'prometheus gave no value: connection refused' });
    const failing = await runAnalysis(rolloutWith(metrics), window, { ...down, fleet: () => ({ requests: 50, errors: 50 }) });
    expect(failing.outcome).toBe('fail');
  });
});

describe('HTTP metric sources', () => {
  let server: Server;
  let base: string;
  const seen: string[] = [];
  const answers: Record<string, [number, string]> = {
    '/prom/api/v1/query?query=rate(x%5B1m%5D)': [200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"0.25"]},{"metric":{},"value":[1.5,"9"]}]}}'],
    '/prom/api/v1/query?query=scalar(1)': [200, '{"status":"success","data":{"resultType":"scalar","result":[1.5,"1"]}}'],
    '/prom/api/v1/query?query=empty': [200, '{"status":"success","data":{"resultType":"vector","result":[]}}'],
    '/prom/api/v1/query?query=nan': [200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.5,"NaN"]}]}}'],
    '/prom/api/v1/query?query=bad': [400, '{"status":"error","error":"parse error"}'],
    '/hook/number': [200, '0.93'],
    '/hook/object': [200, '{"value": 0.91, "labels": 1200}'],
    '/hook/text': [200, '"good"'],
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const [status, body] = answers[req.url ?? ''] ?? [404, '{}'];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const signal = () => AbortSignal.timeout(2_000);

  it('reads the first sample of an instant query (or a scalar), with the query URL-encoded', async () => {
    expect(await queryPrometheus(`${base}/prom/`, 'rate(x[1m])', signal())).toBe(0.25);
    expect(seen).toContain('/prom/api/v1/query?query=rate(x%5B1m%5D)');
    expect(await queryPrometheus(`${base}/prom`, 'scalar(1)', signal())).toBe(1);
  });

  it('refuses an empty result, a NaN and a failed query', async () => {
    await expect(queryPrometheus(`${base}/prom`, 'empty', signal())).rejects.toThrow('no sample');
    await expect(queryPrometheus(`${base}/prom`, 'nan', signal())).rejects.toThrow('not a number');
    await expect(queryPrometheus(`${base}/prom`, 'bad', signal())).rejects.toThrow('HTTP 400');
  });

  it('reads a webhook number or {"value": number}, and refuses anything else', async () => {
    expect(await readWebhook(`${base}/hook/number`, signal())).toBe(0.93);
    expect(await readWebhook(`${base}/hook/object`, signal())).toBe(0.91);
    await expect(readWebhook(`${base}/hook/text`, signal())).rejects.toThrow('neither a number');
    await expect(readWebhook(`${base}/hook/missing`, signal())).rejects.toThrow('HTTP 404');
  });
});

describe('a shadow metric (the candidate answers copies at a shadow step)', () => {
  const agreement: RolloutMetric = { name: 'agreement', source: 'shadow', minAgreement: 0.95, minSamples: 200, confidence: 0.95 };
  const latency: RolloutMetric = { name: 'latency', source: 'shadow', maxLatencyRatio: 1.5, confidence: 0.95 };

  /** Holding the shadow step (step 0, 50% copied), then a weight step; `fleet` is measured at weight steps only. */
  function shadowRollout(metrics: RolloutMetric[], step = 0) {
    return holding(
      T0,
      { step },
      rolloutBody({
        steps: [{ shadow: 50, hold: '60s' }, { weight: 50, hold: '60s' }],
        shadowCompare: { kind: 'numeric', path: '/prediction' },
        analysis: { interval: '20s', minRequests: 300, failureLimit: 0, inconclusiveLimit: 2, metrics },
      }),
    );
  }
  const totals = (samples: number, agreed: number, userP50Ms: number | null = 3, candidateP50Ms: number | null = 4): ShadowTotals => ({
    samples,
    agreed,
    userP50Ms,
    candidateP50Ms,
  });

  it.each([
    ['pass: the interval lies at or above minAgreement', [agreement], totals(600, 597), 'pass', undefined],
    [
      'fail: the interval lies below minAgreement',
      [agreement],
      totals(600, 468),
      'fail',
      /^agreement 78\.0% \(468 of 600\), at most 81\.\d% at 95% < minAgreement 95%$/,
    ],
    ['inconclusive: fewer samples than minSamples', [agreement], totals(199, 0), 'inconclusive', /^199 compared answer\(s\) from green, fewer than minSamples 200$/],
    [
      'inconclusive: the interval straddles minAgreement',
      [agreement],
      totals(200, 186),
      'inconclusive',
      /^agreement 93\.0% \(186 of 200\), 8\d\.\d% to 9\d\.\d% at 95%, around minAgreement 95%: cannot tell yet$/,
    ],
    ['without minSamples: the analysis minRequests (300)', [{ ...agreement, minSamples: undefined }], totals(299, 299), 'inconclusive', /fewer than minSamples 300$/],
    [
      'fail: the candidate median latency above maxLatencyRatio times the user one',
      [latency],
      totals(600, 0, 3, 9),
      'fail',
      /^candidate p50 9 ms \/ user p50 3 ms = 3 > maxLatencyRatio 1\.5$/,
    ],
    ['pass: a latency ratio within maxLatencyRatio (agreement not bounded)', [latency], totals(600, 0, 3, 4.5), 'pass', undefined],
    [
      'fail: agreement passing does not hide a slow candidate',
      [{ ...agreement, maxLatencyRatio: 1.5 }],
      totals(600, 600, 2, 3.5),
      'fail',
      /^candidate p50 3\.5 ms \/ user p50 2 ms = 1\.75 > maxLatencyRatio 1\.5$/,
    ],
  ] as const)('%s', async (_name, metrics, shadowTotals, outcome, reason) => {
    const s = sources({ shadow: () => shadowTotals });
    const result = await runAnalysis(shadowRollout([...metrics]), window, s);
    expect(result.outcome).toBe(outcome);
    const [m] = result.measurements;
    expect(m).toMatchObject({ outcome, requests: shadowTotals.samples });
    if (reason === undefined) expect(m?.reason).toBeUndefined();
    else expect(m?.reason).toMatch(reason);
  });

  it('keeps the sample and the interval in the measurement, at the two-sided level asked for', async () => {
    const s = sources({ shadow: () => totals(600, 468) });
    const [at95] = (await runAnalysis(shadowRollout([agreement]), window, s)).measurements;
    const [at99] = (await runAnalysis(shadowRollout([{ ...agreement, confidence: 0.99 }]), window, s)).measurements;
    expect(at95).toMatchObject({ value: 0.78, requests: 600, shadow: { agreed: 468, minAgreement: 0.95, confidence: 0.95, userP50Ms: 3, candidateP50Ms: 4 } });
    expect(at95?.shadow?.lower).toBeLessThan(0.78);
    expect(at95?.shadow?.upper).toBeGreaterThan(0.78);
    // A higher confidence widens the interval on both sides.
    expect(at99?.shadow?.lower).toBeLessThan(at95!.shadow!.lower!);
    expect(at99?.shadow?.upper).toBeGreaterThan(at95!.shadow!.upper!);
  });

  it('at a shadow step measures only shadow metrics, since the window start; at a weight step only the others', async () => {
    const metrics = [agreement, fleet];
    const atShadow = sources();
    const shadowStep = await runAnalysis(shadowRollout(metrics, 0), window, atShadow);
    expect(shadowStep.measurements.map((m) => m.metric)).toEqual(['agreement']);
    expect(atShadow.shadowCalls).toEqual([['predict', T0]]);
    expect(atShadow.fleetCalls).toEqual([]);

    const atWeight = sources();
    const weightStep = await runAnalysis(shadowRollout(metrics, 1), window, atWeight);
    expect(weightStep.measurements.map((m) => m.metric)).toEqual(['errors']);
    expect(atWeight.shadowCalls).toEqual([]);
  });
});
