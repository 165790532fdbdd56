// Shadow traffic with compared answers through real processes: `sluice serve` (bin/sluice.js), a
// real Envoy and demo model servers. Green is blue's model with a quirk on 20% of inputs; the
// service shadows green at 50% with a numeric comparison. Every user is served by blue, blue
// computes each request exactly once, about half the requests are copied to green, and the
// agreement sluice measures is 80% within binomial tolerance. With sluice killed, users are still
// served by blue. Every wait is for a state, bounded.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { withinBinomialTolerance } from '../e2e/traffic.js';
import { runSluice } from '../support/sluice-process.js';
import { SseReader } from '../support/sse.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { blueGreenService } from '../support/services.js';

const QUIRK_SHARE = 0.2;
const REQUESTS = 3000;
const PERCENT = 50;

let stack: ProcessStack;
let quirkyGreen: ModelServer;

beforeAll(async () => {
  stack = await startProcessStack('shadow-envoy');
  quirkyGreen = await startModelServer({ version: 'green', model: DEMO_MODELS['blue']!.model, quirkShare: QUIRK_SHARE });
});

afterAll(async () => {
  await stack?.stop();
  await quirkyGreen?.close();
});

/** Distinct inputs, so the quirk's share is a property of the input set. */
function featuresOf(i: number): number[] {
  return [i % 101, Math.floor(i / 101), (i * 7) % 13];
}

async function sendDistinct(count: number): Promise<{ servedBy: Record<string, number>; failures: string[] }> {
  const servedBy: Record<string, number> = {};
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const response = await fetch(stack.predictUrl, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ features: featuresOf(i) }),
      });
      await response.arrayBuffer();
      const served = response.headers.get('x-sluice-version') ?? 'none';
      if (response.status !== 200) failures.push(`status ${response.status} from ${served}`);
      servedBy[served] = (servedBy[served] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { servedBy, failures };
}

describe('shadow traffic with compared answers (bin/sluice.js, real Envoy)', () => {
  it('copies about half the requests to green, serves every user from blue once, and measures 80% agreement', async () => {
    const put = await stack.http(
      'PUT',
      '/v1/services/predict',
      blueGreenService(stack.blue, quirkyGreen, {
        shadow: { to: 'green', percent: PERCENT, compare: { kind: 'numeric', path: '/prediction', absolute: 1e-9 } },
      }),
    );
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    await stack.waitApplied(put.json.revision);
    const blueBefore = stack.blue.stats.requests;

    const { servedBy, failures } = await sendDistinct(REQUESTS);
    expect(failures).toEqual([]);
    expect(servedBy).toEqual({ blue: REQUESTS });
    // The stable version never computes a request twice.
    expect(stack.blue.stats.requests - blueBefore).toBe(REQUESTS);

    // Every copy green answered is compared, or counted unpaired once one of its two reports went
    // missing (Envoy gives up on a report stream after 5 s) and the other waited 30 s. Reports are
    // best effort: on a loaded machine a rare copy loses both and is never seen, so wait (bounded)
    // until all but at most 1% are accounted for — never more than green answered.
    const accounted = (r: any): number => r.samples + r.incomparable + r.unpaired.userOnly + r.unpaired.candidateOnly;
    let report: any;
    await vi.waitFor(
      async () => {
        report = (await stack.http('GET', '/v1/services/predict/shadow')).json;
        expect(accounted(report)).toBeGreaterThanOrEqual(Math.ceil(quirkyGreen.stats.requests * 0.99));
      },
      { timeout: 45_000, interval: 100 },
    );
    expect(accounted(report)).toBeLessThanOrEqual(quirkyGreen.stats.requests);
    expect(withinBinomialTolerance(quirkyGreen.stats.requests, REQUESTS, PERCENT / 100), `${quirkyGreen.stats.requests} copies`).toBe(true);
    expect(report.incomparable).toBe(0);
    expect(report.candidateErrors).toBe(0);
    // What green disagreed on is exactly its quirk's share of the copied inputs: known per input.
    expect(report.disagreed + report.agreed).toBe(report.samples);
    expect(withinBinomialTolerance(report.agreed, report.samples, 1 - QUIRK_SHARE), `${report.agreed}/${report.samples}`).toBe(true);
    expect(report.agreement.low).toBeLessThan(report.agreement.rate);
    expect(report.agreement.high).toBeGreaterThan(report.agreement.rate);
    expect(report.difference.max).toBeCloseTo(1, 6);
    expect(report.latencyMs.user.samples).toBeGreaterThan(0);
    expect(report.latencyMs.candidate.samples).toBeGreaterThan(0);
    // Each kept disagreement is one of the quirk's inputs, with both answers.
    expect(report.disagreements.length).toBe(Math.min(20, report.disagreed));
    for (const d of report.disagreements) {
      const user = JSON.parse(d.user.text);
      const candidate = JSON.parse(d.candidate.text);
      expect(candidate.prediction - user.prediction).toBeCloseTo(1, 6);
      expect(user.version).toBe('blue');
      expect(candidate.version).toBe('green');
    }
    // The metrics and the CLI tell the same figures as the API (read together until a late report
    // stops moving them).
    await vi.waitFor(
      async () => {
        const metrics = await (await fetch(`${stack.sluice.adminUrl}/metrics`)).text();
        const now = (await stack.http('GET', '/v1/services/predict/shadow')).json;
        expect(metrics).toContain(`sluice_shadow_comparisons_total{service="predict",version="green",outcome="disagree"} ${now.disagreed}`);
      },
      { timeout: 20_000, interval: 100 },
    );
    await vi.waitFor(
      async () => {
        const cli = await runSluice(['shadow', 'predict', '--server', stack.sluice.adminUrl]);
        const now = (await stack.http('GET', '/v1/services/predict/shadow')).json;
        expect(cli.stderr).toBe('');
        expect(cli.code).toBe(0);
        expect(cli.stdout).toContain(`predict: shadow green at ${PERCENT}% (numeric, /prediction, absolute 1e-9)`);
        expect(cli.stdout).toContain(`agreed on ${(now.agreement.rate * 100).toFixed(1)}% (${now.agreed} of ${now.samples};`);
        expect(cli.stdout).toContain(`last disagreements (${now.disagreements.length}):`);
      },
      { timeout: 20_000, interval: 100 },
    );
    // The event stream tells the figures as they were at its last tick (at most every 10 s).
    const events = await SseReader.open(`${stack.sluice.adminUrl}/v1/events?types=shadow&since=0`);
    try {
      const event = (await events.next((e) => e.event === 'shadow' && (e.data as any).samples >= report.samples, 25_000)).data as any;
      expect(event).toMatchObject({ service: 'predict', to: 'green', candidateErrors: 0 });
      expect(event.agreed + event.disagreed).toBe(event.samples);
      expect(event.message).toContain(`(${event.agreed} of ${event.samples})`);
    } finally {
      events.close();
    }
  }, 90_000);

  it('keeps serving every user while the collector is stalled (stopped, its connections open), and compares again once it runs', async () => {
    stack.sluice.child.kill('SIGSTOP');
    try {
      const { servedBy, failures } = await sendDistinct(300);
      expect(failures).toEqual([]);
      expect(servedBy).toEqual({ blue: 300 });
    } finally {
      stack.sluice.child.kill('SIGCONT');
    }
    const before = (await stack.http('GET', '/v1/services/predict/shadow')).json.samples;
    await sendDistinct(100);
    await vi.waitFor(async () => expect((await stack.http('GET', '/v1/services/predict/shadow')).json.samples).toBeGreaterThan(before), { timeout: 20_000, interval: 100 });
  }, 90_000);

  // Last: it stops sluice. The comparison path failing must never touch the user's request.
  it('keeps serving every user from blue when sluice, the collector, is gone', async () => {
    const greenBefore = quirkyGreen.stats.requests;
    expect(await stack.sluice.stop('SIGKILL')).not.toBe(0);
    const { servedBy, failures } = await sendDistinct(200);
    expect(failures).toEqual([]);
    expect(servedBy).toEqual({ blue: 200 });
    // Envoy still copies to green (its configuration stays); only the reports go nowhere.
    expect(quirkyGreen.stats.requests).toBeGreaterThan(greenBefore);
  });
});
