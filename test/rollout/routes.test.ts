// The rollout routes through inject(): starting a rollout, reading it, steering it, and every
// refusal with its status, code and JSON path; and the service routes' rollout guardrails (409
// unless overridden, answers that say when a rollout was aborted) — over the admin test harness
// (a real SQLite store).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from '../admin/harness.js';
import { iso, rolloutBody, T0 } from './fixtures.js';

let h: Harness;
const clock = { now: T0 };

beforeEach(async () => {
  clock.now = T0;
  h = await openHarness({ deps: { rolloutClock: () => clock.now } });
  expect((await send(h.app, 'PUT', '/v1/services/predict', predictBody())).statusCode).toBe(200);
});
afterEach(async () => {
  await h.cleanup();
});

function startRollout(body: unknown = rolloutBody(), headers: Record<string, string> = {}) {
  return send(h.app, 'POST', '/v1/services/predict/rollouts', body, headers);
}

function expectError(res: { statusCode: number; json(): any }, status: number, code: string, path?: string) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  expect(res.json().error.code).toBe(code);
  if (path !== undefined) expect(res.json().error.path).toBe(path);
}

describe('POST /v1/services/{name}/rollouts', () => {
  it('starts a rollout: 201 with the revision, the rollout and the service weights now', async () => {
    const res = await startRollout(rolloutBody(), { 'x-sluice-actor': 'alice' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['etag']).toBe('"2"');
    expect(res.json()).toEqual({
      revision: 2,
      service: 'predict',
      candidate: 'green',
      stable: 'blue',
      steps: rolloutBody().steps,
      analysis: rolloutBody().analysis,
      proxyTimeout: '5m',
      phase: 'progressing',
      step: 0,
      failures: 0,
      inconclusive: 0,
      startedAt: iso(T0),
      weights: { blue: 100, green: 0 },
      timeline: [{ at: iso(T0), event: 'started', step: 0, actor: 'alice' }],
    });
    const [entry] = (await send(h.app, 'GET', '/v1/audit?limit=1')).json().entries;
    expect(entry).toMatchObject({ revision: 2, actor: 'alice', summary: 'start rollout of predict: green in 3 step(s)' });
  });

  it('fills the analysis defaults', async () => {
    const res = await startRollout({ candidate: 'green', steps: [{ weight: 100, hold: '0s' }], analysis: { interval: '30s', metrics: [] } });
    expect(res.statusCode).toBe(201);
    expect(res.json().analysis).toEqual({ interval: '30s', minRequests: 50, failureLimit: 0, inconclusiveLimit: 3, metrics: [] });
  });

  it('needs no analysis and no hold on the last weighted step; GET answers the complete rollout with the defaults', async () => {
    const res = await startRollout({ candidate: 'green', steps: [{ weight: 10, hold: '1m' }, { approve: true }, { weight: 100 }] });
    expect(res.statusCode, res.body).toBe(201);
    const read = (await send(h.app, 'GET', '/v1/services/predict/rollout')).json();
    expect(read).toMatchObject({
      steps: [{ weight: 10, hold: '1m' }, { approve: true }, { weight: 100, hold: '0s' }],
      analysis: { interval: '30s', minRequests: 50, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
      proxyTimeout: '5m',
    });
    expect(read).not.toHaveProperty('notify');
  });

  it('keeps a relative fleet metric, its confidence 0.95 unless the body says', async () => {
    const metrics = [
      { name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01 },
      { name: 'strict-vs-stable', source: 'fleet', maxErrorRateIncrease: 0, confidence: 0.99 },
    ];
    const res = await startRollout({ ...rolloutBody(), analysis: { ...rolloutBody().analysis, metrics } });
    expect(res.statusCode).toBe(201);
    expect(res.json().analysis.metrics).toEqual([
      { name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01, confidence: 0.95 },
      { name: 'strict-vs-stable', source: 'fleet', maxErrorRateIncrease: 0, confidence: 0.99 },
    ]);
  });

  it('keeps the notify URLs of the body', async () => {
    const notify = ['https://hooks.example/T1/B2', 'http://127.0.0.1:9999/rollouts'];
    expect((await startRollout(rolloutBody({ notify }))).statusCode).toBe(201);
    expect((await send(h.app, 'GET', '/v1/services/predict/rollout')).json().notify).toEqual(notify);
  });

  it('accepts the minimums: a 1s analysis interval, a 1s hold, no hold ("0s") and a 1s proxyTimeout', async () => {
    const res = await startRollout({
      candidate: 'green',
      steps: [{ weight: 10, hold: '1s' }, { weight: 100, hold: '0s' }],
      analysis: { interval: '1000ms', metrics: [] },
      proxyTimeout: '1s',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().proxyTimeout).toBe('1s');
    expect((await send(h.app, 'GET', '/v1/services/predict/rollout')).json().proxyTimeout).toBe('1s');
  });

  it('allows one active rollout per service (409), and a new one once it ended', async () => {
    expect((await startRollout()).statusCode).toBe(201);
    expectError(await startRollout(), 409, 'SLUICE_ROLLOUT_ACTIVE');
    expect((await send(h.app, 'POST', '/v1/services/predict/rollout/abort')).statusCode).toBe(200);
    const again = await startRollout();
    expect(again.statusCode).toBe(201);
    expect(again.json().timeline).toHaveLength(1);
  });

  it.each([
    ['an unknown service', '/v1/services/nope/rollouts', rolloutBody(), 404, 'SLUICE_SERVICE_NOT_FOUND', undefined],
    ['a malformed service name', '/v1/services/Bad_Name/rollouts', rolloutBody(), 400, 'SLUICE_INVALID_PARAM', '/name'],
  ])('refuses %s', async (_what, url, body, status, code, path) => {
    expectError(await send(h.app, 'POST', url, body), status, code, path);
  });

  const analysis = rolloutBody().analysis;
  it.each([
    ['a candidate that is no version', { candidate: 'red' }, 422, 'SLUICE_UNKNOWN_VERSION', '/candidate'],
    ['the stable version as candidate', { candidate: 'blue' }, 422, 'SLUICE_CANDIDATE_IS_STABLE', '/candidate'],
    ['no steps', { steps: [] }, 400, 'SLUICE_INVALID_BODY', '/steps'],
    ['a weight step without hold before the last one', { steps: [{ weight: 10 }, { weight: 100 }] }, 400, 'SLUICE_INVALID_BODY', '/steps/0/hold'],
    ['an analysis without interval', { analysis: { metrics: [] } }, 400, 'SLUICE_INVALID_BODY', '/analysis/interval'],
    ['a notify URL that is not a URL', { notify: ['hooks'] }, 400, 'SLUICE_INVALID_BODY', '/notify/0'],
    ['a notify URL of another scheme', { notify: ['https://a.example/x', 'mailto:ops@example.com'] }, 400, 'SLUICE_INVALID_BODY', '/notify/1'],
    ['an empty step', { steps: [{ weight: 10, hold: '1m' }, {}] }, 400, 'SLUICE_INVALID_BODY', '/steps/1'],
    ['an approval step with a weight', { steps: [{ approve: true, weight: 5 }] }, 400, 'SLUICE_INVALID_BODY', '/steps/0/approve'],
    ['approve: false', { steps: [{ approve: false }] }, 400, 'SLUICE_INVALID_BODY', '/steps/0/approve'],
    ['a weight over 100', { steps: [{ weight: 101, hold: '1m' }] }, 400, 'SLUICE_INVALID_BODY', '/steps/0/weight'],
    ['a weight with three decimals', { steps: [{ weight: 10.125, hold: '1m' }] }, 400, 'SLUICE_INVALID_BODY', '/steps/0/weight'],
    ['a malformed hold', { steps: [{ weight: 10, hold: '2 minutes' }] }, 400, 'SLUICE_INVALID_BODY', '/steps/0/hold'],
    ['a zero interval', { analysis: { ...analysis, interval: '0s' } }, 422, 'SLUICE_DURATION_TOO_SHORT', '/analysis/interval'],
    ['an interval under 1s', { analysis: { ...analysis, interval: '999ms' } }, 422, 'SLUICE_DURATION_TOO_SHORT', '/analysis/interval'],
    ['a hold under 1s', { steps: [{ weight: 20, hold: '60s' }, { weight: 50, hold: '0.5s' }] }, 422, 'SLUICE_DURATION_TOO_SHORT', '/steps/1/hold'],
    ['a proxyTimeout under 1s', { proxyTimeout: '999ms' }, 422, 'SLUICE_DURATION_TOO_SHORT', '/proxyTimeout'],
    ['a zero proxyTimeout', { proxyTimeout: '0s' }, 422, 'SLUICE_DURATION_TOO_SHORT', '/proxyTimeout'],
    ['a malformed proxyTimeout', { proxyTimeout: '5 minutes' }, 400, 'SLUICE_INVALID_BODY', '/proxyTimeout'],
    ['a negative failureLimit', { analysis: { ...analysis, failureLimit: -1 } }, 400, 'SLUICE_INVALID_BODY', '/analysis/failureLimit'],
    ['no metrics list', { analysis: { interval: '30s' } }, 400, 'SLUICE_INVALID_BODY', '/analysis/metrics'],
    [
      'a fleet metric without maxErrorRate',
      { analysis: { ...analysis, metrics: [{ name: 'errors', source: 'fleet' }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/maxErrorRate',
    ],
    [
      'a fleet metric with a url',
      { analysis: { ...analysis, metrics: [{ name: 'errors', source: 'fleet', maxErrorRate: 0.1, url: 'http://x' }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/url',
    ],
    [
      'a Prometheus metric without query',
      { analysis: { ...analysis, metrics: [{ name: 'p99', source: 'prometheus', url: 'http://prom:9090', max: 1 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/query',
    ],
    [
      'a webhook metric without bounds',
      { analysis: { ...analysis, metrics: [{ name: 'quality', source: 'webhook', url: 'http://q' }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0',
    ],
    [
      'a webhook metric with min above max',
      { analysis: { ...analysis, metrics: [{ name: 'quality', source: 'webhook', url: 'http://q', min: 2, max: 1 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/min',
    ],
    [
      'a URL that is not http',
      { analysis: { ...analysis, metrics: [{ name: 'quality', source: 'webhook', url: 'file:///etc/passwd', min: 0 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/url',
    ],
    [
      'two metrics with one name',
      { analysis: { ...analysis, metrics: [analysis.metrics[0], analysis.metrics[0]] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/1/name',
    ],
    [
      'a relative metric with confidence 1',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01, confidence: 1 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/confidence',
    ],
    [
      'a relative metric with confidence 0',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01, confidence: 0 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/confidence',
    ],
    [
      'a relative metric with confidence 95 (a percentage)',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 0.01, confidence: 95 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/confidence',
    ],
    [
      'a relative metric with a negative increase',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: -0.01 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/maxErrorRateIncrease',
    ],
    [
      'a relative metric with an increase over 1',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRateIncrease: 2 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/maxErrorRateIncrease',
    ],
    [
      'a fleet metric both absolute and relative',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRate: 0.05, maxErrorRateIncrease: 0.01 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/maxErrorRateIncrease',
    ],
    [
      'an absolute fleet metric with a confidence',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', maxErrorRate: 0.05, confidence: 0.95 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/confidence',
    ],
    [
      'a confidence without maxErrorRateIncrease',
      { analysis: { ...analysis, metrics: [{ name: 'errors-vs-stable', source: 'fleet', confidence: 0.95 }] } },
      400,
      'SLUICE_INVALID_BODY',
      '/analysis/metrics/0/maxErrorRate',
    ],
    ['an unknown field', { canary: true }, 400, 'SLUICE_INVALID_BODY', '/canary'],
  ])('refuses %s', async (_what, change, status, code, path) => {
    const before = h.store.current().revision;
    expectError(await startRollout({ ...rolloutBody(), ...change }), status, code, path);
    expect(h.store.current().revision).toBe(before);
  });

  describe('with shadow steps', () => {
    const shadowBody = (overrides: Record<string, unknown> = {}) => ({
      candidate: 'green',
      steps: [
        { weight: 0, hold: '10s' },
        { shadow: 20, hold: '10m' },
        { weight: 50, hold: '10m' },
      ],
      shadowCompare: { kind: 'numeric', path: '/prediction', absolute: 0.001 },
      analysis: { interval: '30s', metrics: [{ name: 'agreement', source: 'shadow', minAgreement: 0.95 }] },
      ...overrides,
    });

    it('keeps the shadow steps, the comparison and a shadow metric with its confidence 0.95 unless the body says', async () => {
      const res = await startRollout(shadowBody({ shadowKeep: 'hashes' }));
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({
        steps: [{ weight: 0, hold: '10s' }, { shadow: 20, hold: '10m' }, { weight: 50, hold: '10m' }],
        shadowCompare: { kind: 'numeric', path: '/prediction', absolute: 0.001 },
        shadowKeep: 'hashes',
        analysis: { minRequests: 50, metrics: [{ name: 'agreement', source: 'shadow', minAgreement: 0.95, confidence: 0.95 }] },
      });
      expect(res.json().analysis.metrics[0]).not.toHaveProperty('minSamples');
    });

    it('refuses a shadow step on a service that mirrors, at the step, saying why', async () => {
      expect((await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), mirror: { to: 'green', percent: 10 } })).statusCode).toBe(200);
      const res = await startRollout(shadowBody());
      expectError(res, 400, 'SLUICE_INVALID_BODY', '/steps/1');
      expect(res.json().error.message).toMatch(/mirrors requests to "green".*a service does not do both/);
    });

    const metric = (fields: Record<string, unknown>) => ({ analysis: { interval: '30s', metrics: [{ name: 'agreement', source: 'shadow', ...fields }] } });
    it.each([
      ['shadow steps without shadowCompare', { shadowCompare: undefined }, '/shadowCompare'],
      ['shadowCompare without shadow steps', { steps: [{ weight: 50, hold: '1m' }], analysis: undefined }, '/shadowCompare'],
      ['shadowKeep without shadow steps', { steps: [{ weight: 50, hold: '1m' }], shadowCompare: undefined, analysis: undefined, shadowKeep: 'answers' }, '/shadowKeep'],
      ['a numeric shadowCompare without path', { shadowCompare: { kind: 'numeric' } }, '/shadowCompare/path'],
      ['a label shadowCompare with a tolerance', { shadowCompare: { kind: 'label', path: '/class', absolute: 1 } }, '/shadowCompare/absolute'],
      ['an unknown shadowKeep', { shadowKeep: 'everything' }, '/shadowKeep'],
      ['a shadow step of 0%', { steps: [{ shadow: 0, hold: '1m' }] }, '/steps/0/shadow'],
      ['a shadow step over 100%', { steps: [{ shadow: 101, hold: '1m' }] }, '/steps/0/shadow'],
      ['a shadow step with three decimals', { steps: [{ shadow: 10.125, hold: '1m' }] }, '/steps/0/shadow'],
      ['a shadow step with a weight', { steps: [{ shadow: 10, weight: 10, hold: '1m' }] }, '/steps/0/shadow'],
      ['a shadow step without hold (even the last)', { steps: [{ weight: 10, hold: '1m' }, { shadow: 10 }] }, '/steps/1/hold'],
      ['a shadow metric bounding nothing', metric({}), '/analysis/metrics/0/minAgreement'],
      ['a shadow metric with maxErrorRate', metric({ minAgreement: 0.9, maxErrorRate: 0.1 }), '/analysis/metrics/0/maxErrorRate'],
      ['a shadow metric with minAgreement over 1', metric({ minAgreement: 1.5 }), '/analysis/metrics/0/minAgreement'],
      ['a shadow metric with maxLatencyRatio 0', metric({ maxLatencyRatio: 0 }), '/analysis/metrics/0/maxLatencyRatio'],
      ['a shadow metric with confidence 1', metric({ minAgreement: 0.9, confidence: 1 }), '/analysis/metrics/0/confidence'],
      ['a shadow metric with a fractional minSamples', metric({ minAgreement: 0.9, minSamples: 2.5 }), '/analysis/metrics/0/minSamples'],
      [
        'a shadow metric without shadow steps (it would never be measured)',
        { steps: [{ weight: 50, hold: '1m' }], shadowCompare: undefined },
        '/analysis/metrics/0/source',
      ],
    ])('refuses %s', async (_what, change, path) => {
      const before = h.store.current().revision;
      expectError(await startRollout(JSON.parse(JSON.stringify(shadowBody(change)))), 400, 'SLUICE_INVALID_BODY', path);
      expect(h.store.current().revision).toBe(before);
    });
  });

  it('refuses a body that is not JSON and a missing body', async () => {
    expectError(await startRollout('{"candidate":'), 400, 'SLUICE_MALFORMED_JSON');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollouts'), 400, 'SLUICE_INVALID_BODY');
  });
});

describe('GET /v1/services/{name}/rollout', () => {
  it('answers the latest rollout at the current revision', async () => {
    await startRollout();
    const res = await send(h.app, 'GET', '/v1/services/predict/rollout');
    expect(res.statusCode).toBe(200);
    expect(res.headers['etag']).toBe('"2"');
    expect(res.json()).toMatchObject({ revision: 2, phase: 'progressing', step: 0, weights: { blue: 100, green: 0 } });
  });

  it('is a 404 for a service without rollout and for an unknown service', async () => {
    expectError(await send(h.app, 'GET', '/v1/services/predict/rollout'), 404, 'SLUICE_ROLLOUT_NOT_FOUND');
    expectError(await send(h.app, 'GET', '/v1/services/nope/rollout'), 404, 'SLUICE_SERVICE_NOT_FOUND');
  });
});

describe('steering a rollout', () => {
  it('pauses (with or without a reason) and resumes, recording who did it', async () => {
    await startRollout();
    clock.now = T0 + 5_000;
    const paused = await send(h.app, 'POST', '/v1/services/predict/rollout/pause', undefined, { 'x-sluice-actor': 'bob' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ revision: 3, phase: 'paused', pausedFrom: 'progressing', reason: 'paused by bob' });
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/pause', { reason: 'again' }), 409, 'SLUICE_ROLLOUT_STATE');
    const resumed = await send(h.app, 'POST', '/v1/services/predict/rollout/resume', {});
    expect(resumed.json()).toMatchObject({ revision: 4, phase: 'progressing' });
    const withReason = await send(h.app, 'POST', '/v1/services/predict/rollout/pause', { reason: 'change freeze' });
    expect(withReason.json().timeline.at(-1)).toEqual({ at: iso(T0 + 5_000), event: 'paused', step: 0, actor: 'admin', reason: 'change freeze' });
  });

  it('abort rolls back at once in one revision, with the reason', async () => {
    await send(h.app, 'PUT', '/v1/services/predict/weights', { blue: 80, green: 20 });
    await startRollout();
    const res = await send(h.app, 'POST', '/v1/services/predict/rollout/abort', { reason: 'alarm from X' }, { 'x-sluice-actor': 'pager' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ revision: 4, phase: 'aborted', reason: 'alarm from X', weights: { blue: 100, green: 0 } });
    expect(h.store.current().services['predict']?.weights).toEqual({ blue: 100, green: 0 });
    const [entry] = (await send(h.app, 'GET', '/v1/audit?limit=1')).json().entries;
    expect(entry).toMatchObject({ revision: 4, actor: 'pager', summary: 'abort rollout of predict: alarm from X' });
  });

  it('refuses commands the phase does not allow, bodies where none is taken, and stale If-Match', async () => {
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/approve'), 404, 'SLUICE_ROLLOUT_NOT_FOUND');
    await startRollout();
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/approve'), 409, 'SLUICE_ROLLOUT_STATE');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/resume'), 409, 'SLUICE_ROLLOUT_STATE');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/approve', { now: true }), 400, 'SLUICE_INVALID_BODY', '');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/abort', { why: 'x' }), 400, 'SLUICE_INVALID_BODY', '/why');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/abort', { reason: '' }), 400, 'SLUICE_INVALID_BODY', '/reason');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/abort', undefined, { 'if-match': '1' }), 412, 'SLUICE_REVISION_MISMATCH');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/restart'), 404, 'SLUICE_NOT_FOUND');
    await send(h.app, 'POST', '/v1/services/predict/rollout/abort');
    expectError(await send(h.app, 'POST', '/v1/services/predict/rollout/abort'), 409, 'SLUICE_ROLLOUT_STATE');
  });
});

describe('answers', () => {
  it('match the response schema their route documents, successes and refusals alike', async () => {
    await h.cleanup();
    const problems: string[] = [];
    h = await openHarness({
      deps: { rolloutClock: () => clock.now },
      beforeReady: (app) => {
        app.addHook('onSend', async (request, reply, payload) => {
          const schemas = request.routeOptions.schema?.response as Record<string, object> | undefined;
          const schema = schemas?.[String(reply.statusCode)] ?? schemas?.[`${String(reply.statusCode)[0]}xx`];
          const route = `${request.method} ${request.url} ${reply.statusCode}`;
          if (schema === undefined) problems.push(`${route}: no response schema`);
          else {
            const validate = request.compileValidationSchema(schema);
            if (!validate(JSON.parse(String(payload)))) problems.push(`${route}: ${JSON.stringify(validate.errors)}`);
          }
          return payload;
        });
      },
    });
    await send(h.app, 'PUT', '/v1/services/predict', predictBody());
    await startRollout();
    await startRollout();
    await send(h.app, 'POST', '/v1/services/predict/rollout/pause', { reason: 'look' });
    await send(h.app, 'GET', '/v1/services/predict/rollout');
    await send(h.app, 'POST', '/v1/services/predict/rollout/resume');
    await send(h.app, 'POST', '/v1/services/predict/rollout/approve');
    await send(h.app, 'POST', '/v1/services/predict/rollout/abort');
    await send(h.app, 'GET', '/v1/services/nope/rollout');
    expect(problems).toEqual([]);
  });
});

describe('manual changes during an active rollout', () => {
  const weights = { blue: 90, green: 10 };

  it('refuses weights, promote and a weights-changing replace with 409 SLUICE_ROLLOUT_IN_PROGRESS, changing nothing', async () => {
    await startRollout();
    const before = h.store.current();
    const refused = await send(h.app, 'PUT', '/v1/services/predict/weights', weights);
    expectError(refused, 409, 'SLUICE_ROLLOUT_IN_PROGRESS');
    expect(refused.json().error.message).toMatch(/active rollout of "green".*\?override=rollout/);
    expectError(await send(h.app, 'POST', '/v1/services/predict/promote', { version: 'green' }), 409, 'SLUICE_ROLLOUT_IN_PROGRESS');
    expectError(await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), weights }), 409, 'SLUICE_ROLLOUT_IN_PROGRESS');
    expectError(await send(h.app, 'PUT', '/v1/services/predict/weights?override=yes', weights), 400, 'SLUICE_INVALID_PARAM', '/override');
    expect(h.store.current()).toBe(before);
    // A replacement that leaves the traffic alone goes through; the rollout keeps running.
    const timeout = await send(h.app, 'PUT', '/v1/services/predict', { ...predictBody(), timeout: '5s' });
    expect(timeout.statusCode).toBe(200);
    expect(timeout.json()).not.toHaveProperty('abortedRollout');
    expect(h.store.current().rollouts!['predict']!.phase).toBe('progressing');
  });

  it('with ?override=rollout makes the change, aborts the rollout in the same revision and says so', async () => {
    await startRollout();
    const revision = h.store.current().revision;
    const res = await send(h.app, 'PUT', '/v1/services/predict/weights?override=rollout', weights, { 'x-sluice-actor': 'carol' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      revision: revision + 1,
      weights,
      abortedRollout: { candidate: 'green', phase: 'progressing', step: 0, reason: 'setting weights by carol with override=rollout' },
    });
    const rollout = (await send(h.app, 'GET', '/v1/services/predict/rollout')).json();
    expect(rollout).toMatchObject({ phase: 'aborted', weights });
    expect(rollout.timeline.at(-1)).toMatchObject({ event: 'aborted', actor: 'carol' });
    // The rollout has ended: the next change is an ordinary one.
    const promote = await send(h.app, 'POST', '/v1/services/predict/promote', { version: 'green' });
    expect(promote.statusCode).toBe(200);
    expect(promote.json()).not.toHaveProperty('abortedRollout');
  });

  it('promote with ?override=rollout promotes and says which rollout it aborted', async () => {
    await startRollout();
    const res = await send(h.app, 'POST', '/v1/services/predict/promote?override=rollout', { version: 'green' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ stable: 'green', weights: { blue: 0, green: 100 }, abortedRollout: { candidate: 'green' } });
  });

  it('rollback always works and says when it ended the rollout', async () => {
    await startRollout();
    const res = await send(h.app, 'POST', '/v1/services/predict/rollback', undefined, { 'x-sluice-actor': 'pager' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      weights: { blue: 100, green: 0 },
      abortedRollout: { candidate: 'green', phase: 'progressing', reason: 'rolled back by pager' },
    });
    expect(h.store.current().rollouts!['predict']!.phase).toBe('aborted');
    const again = await send(h.app, 'POST', '/v1/services/predict/rollback');
    expect(again.json()).toMatchObject({ unchanged: true });
    expect(again.json()).not.toHaveProperty('abortedRollout');
  });

  it('delete needs ?force=true (409 SLUICE_DELETE_UNCONFIRMED) and then says it aborted the rollout', async () => {
    await startRollout();
    const refused = await send(h.app, 'DELETE', '/v1/services/predict');
    expectError(refused, 409, 'SLUICE_DELETE_UNCONFIRMED');
    expect(refused.json().error.message).toMatch(/rollout of "green".*DELETE \/v1\/services\/predict\?force=true/);
    expectError(await send(h.app, 'DELETE', '/v1/services/predict?force=false'), 409, 'SLUICE_DELETE_UNCONFIRMED');
    const res = await send(h.app, 'DELETE', '/v1/services/predict?force=true');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'predict', abortedRollout: { candidate: 'green', reason: expect.stringMatching(/force=true$/) } });
    expect(h.store.current().services['predict']).toBeUndefined();
  });

  it('a restore that takes the service from the rollout aborts it in the same revision and names it', async () => {
    const first = h.store.current().revision;
    await send(h.app, 'PUT', '/v1/services/predict/weights', weights);
    await startRollout();
    const res = await send(h.app, 'POST', `/v1/revisions/${first}/restore`);
    expect(res.statusCode).toBe(200);
    expect(res.json().abortedRollouts).toMatchObject({ predict: { candidate: 'green', reason: expect.stringMatching(/^revision 1 restored by /) } });
    expect(h.store.current().rollouts!['predict']!.phase).toBe('aborted');
  });
});
