// gRPC model servers behind a real Envoy: ModelInfer calls (h2c on the listener, HTTP/2 upstream)
// split by weight, pinned by metadata, kept on one version and replica by a metadata key, a
// stopped replica taken out by the gRPC health check, and INTERNAL answers (HTTP 200 with
// grpc-status 13) counted as errors in Envoy's load reports and rolling a rollout back.

import type * as grpc from '@grpc/grpc-js';
import { connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { infer, inferenceClient, type InferAnswer } from '../../demo/grpc-inference-client.js';
import { INFERENCE_SERVICE, startGrpcModelServer, type GrpcModelServer } from '../../demo/grpc-model-server.js';
import { predict } from '../../demo/model-server.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { withinBinomialTolerance } from './traffic.js';

const FEATURES = [1, 2, 3];
let stack: SluiceStack;
let client: grpc.Client;
let blue: GrpcModelServer[];
let green: GrpcModelServer;

function serviceBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    match: { prefix: `/${INFERENCE_SERVICE}/` },
    protocol: 'grpc',
    versions: [
      { name: 'blue', endpoints: blue.map((replica) => ({ address: '127.0.0.1', port: replica.port })) },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: green.port }] },
    ],
    weights: { blue: 100, green: 0 },
    stable: 'blue',
    healthCheck: { grpcService: INFERENCE_SERVICE, interval: '1s', timeout: '1s', unhealthyThreshold: 1, healthyThreshold: 1 },
    ...extra,
  };
}

/**
 * The same models under version names no earlier test used: fresh clusters, so load totals hold
 * only this test's calls (an earlier test's traffic may be reported up to 2 s later).
 */
function freshVersions(stable: string, candidate: string): Record<string, unknown> {
  const body = serviceBody();
  const [blueVersion, greenVersion] = body['versions'] as Record<string, unknown>[];
  return { ...body, versions: [{ ...blueVersion, name: stable }, { ...greenVersion, name: candidate }], weights: { [stable]: 100, [candidate]: 0 }, stable };
}

async function put(body: Record<string, unknown>): Promise<void> {
  const answer = await stack.admin('PUT', '/v1/services/infer', body);
  expect(answer.status, JSON.stringify(answer.json)).toBe(200);
  await stack.waitApplied(answer.json.revision);
}

async function envoyClusters(): Promise<string> {
  return (await fetch(`${stack.envoy.adminUrl}/clusters`)).text();
}

/** Until Envoy's gRPC health check has passed every replica (no host of the service is flagged). */
async function waitAllHealthy(): Promise<void> {
  await vi.waitFor(
    async () => {
      const unhealthy = (await envoyClusters()).split('\n').filter((line) => line.startsWith('infer_') && line.includes('::health_flags::') && !line.endsWith('::healthy'));
      expect(unhealthy).toEqual([]);
    },
    { timeout: 15_000, interval: 100 },
  );
}

async function callMany(count: number, concurrency: number, metadata: Record<string, string> = {}): Promise<{ answers: InferAnswer[]; failures: string[] }> {
  const answers: InferAnswer[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await infer(client, FEATURES, metadata).then(
        (answer) => answers.push(answer),
        (error: grpc.ServiceError) => failures.push(`${error.code} ${error.details}`),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { answers, failures };
}

/**
 * A gRPC server that answers every call OK after `x-delay-ms`, deaf to `grpc-timeout` (unlike
 * grpc-js, which ends a call at its deadline itself): only Envoy can end a call early.
 */
async function startSlowServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const timer = setTimeout(() => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(5));
    }, Number(headers['x-delay-ms']));
    stream.on('close', () => clearTimeout(timer));
    // Envoy resets the calls it ends: the reset is the expected outcome here, not a failure.
    stream.on('error', () => clearTimeout(timer));
    stream.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A call over plain HTTP/2 carrying `grpc-timeout` and no deadline of its own: its grpc-status and grpc-message. */
async function rawCall(path: string, grpcTimeout: string, delayMs: number): Promise<{ status: string | undefined; message: string | undefined }> {
  const session = connect(stack.listenerUrl);
  try {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': grpcTimeout, 'x-delay-ms': String(delayMs) });
    // An empty message: one uncompressed frame of length 0.
    stream.end(Buffer.alloc(5));
    stream.resume();
    return await new Promise((resolve, reject) => {
      let status: string | undefined;
      let message: string | undefined;
      const read = (headers: Record<string, unknown>): void => {
        status ??= headers['grpc-status'] as string | undefined;
        message ??= headers['grpc-message'] as string | undefined;
      };
      stream.on('response', read);
      stream.on('trailers', read);
      stream.on('close', () => resolve({ status, message: message === undefined ? undefined : decodeURIComponent(message) }));
      stream.on('error', reject);
    });
  } finally {
    session.close();
  }
}

beforeAll(async () => {
  blue = [
    await startGrpcModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model, replica: 'blue-1' }),
    await startGrpcModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model, replica: 'blue-2' }),
  ];
  green = await startGrpcModelServer({ version: 'green', model: DEMO_MODELS['green']!.model, replica: 'green-1' });
  stack = await startStack({ nodeId: 'grpc-envoy' });
  client = inferenceClient(stack.listenerUrl.replace('http://', ''));
  await put(serviceBody());
  await waitAllHealthy();
  await vi.waitFor(() => infer(client, FEATURES), { timeout: 10_000, interval: 50 });
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
  for (const server of [...(blue ?? []), ...(green ? [green] : [])]) await server.close();
});

describe('gRPC model servers behind Envoy', () => {
  it('splits ModelInfer calls by weight, each stamped with the version that served it', async () => {
    await put(serviceBody({ weights: { blue: 70, green: 30 } }));
    const n = 400;
    const { answers, failures } = await callMany(n, 8);
    expect(failures).toEqual([]);
    for (const answer of answers) {
      expect(answer.served).toBe(answer.version);
      expect(answer.prediction).toBe(predict(DEMO_MODELS[answer.version]!.model, FEATURES));
    }
    const onGreen = answers.filter((a) => a.version === 'green').length;
    expect(withinBinomialTolerance(onGreen, n, 0.3), `${onGreen} of ${n} on green at 30 %`).toBe(true);
  });

  it('honours the pin header sent as metadata, and refuses a pin naming no version', async () => {
    await put(serviceBody({ weights: { blue: 100, green: 0 } }));
    const { answers, failures } = await callMany(20, 4, { 'x-sluice-version': 'green' });
    expect(failures).toEqual([]);
    expect(answers.map((a) => a.version)).toEqual(Array(20).fill('green'));
    const refused = await infer(client, FEATURES, { 'x-sluice-version': 'purple' }).then(
      () => undefined,
      (error: grpc.ServiceError) => error,
    );
    expect(refused?.details).toContain('known versions: blue, green');
    // A failed call is one header frame (trailers-only): the served version is in its metadata too.
    const failed = await infer(client, FEATURES, { 'x-sluice-version': 'green', 'x-demo-status': '13' }).then(
      () => undefined,
      (error: grpc.ServiceError) => error,
    );
    expect(failed?.code).toBe(13);
    expect(failed?.metadata.get('x-sluice-version')).toEqual(['green']);
  });

  it("ends a call at the caller's grpc-timeout, and at the service's timeout when the caller allows more", async () => {
    const slow = await startSlowServer();
    const body = (timeout: string) => ({
      match: { prefix: '/slow.Model/' },
      protocol: 'grpc',
      versions: [{ name: 'only', endpoints: [{ address: '127.0.0.1', port: slow.port }] }],
      timeout,
    });
    try {
      const put = async (timeout: string) => {
        const answer = await stack.admin('PUT', '/v1/services/slow', body(timeout));
        expect(answer.status, JSON.stringify(answer.json)).toBe(200);
        await stack.waitApplied(answer.json.revision);
      };
      await put('10s');
      // The server would answer OK after 3 s; the caller's 300 ms ends it at Envoy.
      expect(await rawCall('/slow.Model/Call', '300m', 3_000)).toEqual({ status: '4', message: expect.stringMatching(/timeout/) });
      await put('1s');
      expect(await rawCall('/slow.Model/Call', '60S', 3_000)).toEqual({ status: '4', message: expect.stringMatching(/timeout/) });
      // Within both, the server's own answer comes through.
      expect((await rawCall('/slow.Model/Call', '60S', 0)).status).toBe('0');
    } finally {
      await stack.admin('DELETE', '/v1/services/slow?force=true');
      await slow.close();
    }
  });

  it('keeps a metadata key on one version and one replica', async () => {
    await put(
      serviceBody({
        weights: { blue: 50, green: 50 },
        affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }] },
      }),
    );
    const seen = new Map<string, Set<string>>();
    for (let user = 0; user < 24; user++) {
      const { answers, failures } = await callMany(8, 2, { 'x-user-id': `user-${user}` });
      expect(failures).toEqual([]);
      seen.set(`user-${user}`, new Set(answers.map((a) => `${a.version}/${a.replica}`)));
    }
    for (const [user, places] of seen) expect([...places], user).toHaveLength(1);
    // The keys spread over both versions and both blue replicas: affinity is by key, not one place for all.
    const places = new Set([...seen.values()].flatMap((s) => [...s]));
    expect([...places].sort()).toEqual(['blue/blue-1', 'blue/blue-2', 'green/green-1']);
  });

  it('takes a stopped replica out once the gRPC health check fails it', async () => {
    await put(serviceBody());
    await waitAllHealthy();
    const stopped = blue[1]!;
    await stopped.close();
    await expect
      .poll(async () => (await envoyClusters()).includes(`infer_blue::127.0.0.1:${stopped.port}::health_flags::/failed_active_hc`), { timeout: 15_000, interval: 100 })
      .toBe(true);
    const { answers, failures } = await callMany(40, 4);
    expect(failures).toEqual([]);
    expect(new Set(answers.map((a) => a.replica))).toEqual(new Set(['blue-1']));
    blue[1] = await startGrpcModelServer({ version: 'blue', model: DEMO_MODELS['blue']!.model, replica: 'blue-2', port: stopped.port });
    await waitAllHealthy();
  });

  it('counts INTERNAL answers (HTTP 200, grpc-status 13) as errors in Envoy\'s load reports', async () => {
    await put(freshVersions('blue-lrs', 'green-lrs'));
    const loads = stack.sluice.loadStats;
    await vi.waitFor(() => expect(loads.isReported('infer_blue-lrs') && loads.isReported('infer_green-lrs')).toBe(true), { timeout: 15_000, interval: 100 });
    const since = Date.now();
    green.setFailureRate(1);
    try {
      const ok = await callMany(30, 3);
      expect(ok.failures).toEqual([]);
      const failing = await callMany(12, 3, { 'x-sluice-version': 'green-lrs' });
      expect(failing.failures).toEqual(Array(12).fill(`13 green is failing on purpose (failureRate 1)`));
      await vi.waitFor(() => expect(loads.totals('infer_blue-lrs', since)).toEqual({ requests: 30, errors: 0 }), { timeout: 15_000, interval: 200 });
      await vi.waitFor(() => expect(loads.totals('infer_green-lrs', since)).toEqual({ requests: 12, errors: 12 }), { timeout: 15_000, interval: 200 });
    } finally {
      green.setFailureRate(0);
    }
  });

  it('has Envoy count the server-failure statuses as errors, not the caller\'s or capacity ones', async () => {
    await put(freshVersions('blue-codes', 'green-codes'));
    const loads = stack.sluice.loadStats;
    await vi.waitFor(() => expect(loads.isReported('infer_green-codes')).toBe(true), { timeout: 15_000, interval: 100 });
    // Status i is answered 2^i times, so the error total says which statuses counted.
    const statuses = { CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15 };
    const since = Date.now();
    let requests = 0;
    for (const [i, code] of Object.values(statuses).entries()) {
      const { failures } = await callMany(2 ** i, 4, { 'x-sluice-version': 'green-codes', 'x-demo-status': String(code) });
      expect(failures).toHaveLength(2 ** i);
      requests += 2 ** i;
    }
    await vi.waitFor(() => expect(loads.totals('infer_green-codes', since).requests).toBe(requests), { timeout: 15_000, interval: 200 });
    const { errors } = loads.totals('infer_green-codes', since);
    const counted = Object.keys(statuses).filter((_, i) => (errors & (2 ** i)) !== 0);
    // Measured with Envoy 1.40: the statuses Envoy maps to HTTP 5xx (UNIMPLEMENTED to 501).
    expect(counted).toEqual(['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS']);
  });

  it('rolls back a candidate answering INTERNAL through a real rollout on the fleet error rate', async () => {
    await put(serviceBody());
    await vi.waitFor(() => expect(stack.sluice.loadStats.isReported('infer_green')).toBe(true), { timeout: 15_000, interval: 100 });
    green.setFailureRate(1);
    let running = true;
    const traffic = (async () => {
      const failures: string[] = [];
      while (running) {
        failures.push(...(await callMany(10, 2)).failures);
        await sleep(20);
      }
      return failures;
    })();
    try {
      const started = await stack.admin('POST', '/v1/services/infer/rollouts', {
        candidate: 'green',
        steps: [{ weight: 50, hold: '10s' }, { weight: 100, hold: '10s' }],
        analysis: { interval: '1s', minRequests: 5, failureLimit: 0, inconclusiveLimit: 30, metrics: [{ name: 'error-rate', source: 'fleet', maxErrorRate: 0.05 }] },
      });
      expect(started.status, JSON.stringify(started.json)).toBe(201);
      let rollout: any;
      await vi.waitFor(
        async () => {
          rollout = (await stack.admin('GET', '/v1/services/infer/rollout')).json;
          expect(['rolled-back', 'succeeded', 'aborted', 'paused']).toContain(rollout.phase);
        },
        { timeout: 25_000, interval: 100 },
      );
      expect(rollout.phase, JSON.stringify(rollout.timeline, null, 1)).toBe('rolled-back');
      const failed = rollout.timeline.filter((d: any) => d.event === 'analysis' && d.outcome === 'fail');
      expect(failed).toHaveLength(1);
      expect(failed[0].measurements[0]).toMatchObject({ outcome: 'fail', value: 1 });
      expect(failed[0].measurements[0].errors).toBe(failed[0].measurements[0].requests);
      const rolledBack = rollout.timeline.find((d: any) => d.event === 'rolled-back');
      expect(rolledBack.weights).toEqual({ blue: 100 });
      await stack.waitApplied(rolledBack.revision);
    } finally {
      running = false;
      const failures = await traffic;
      green.setFailureRate(0);
      // The candidate's INTERNAL answers reached callers while it had traffic; after the rollback none do.
      expect(failures.length).toBeGreaterThan(0);
      expect(new Set(failures)).toEqual(new Set(['13 green is failing on purpose (failureRate 1)']));
    }
    const after = await callMany(40, 4);
    expect(after.failures).toEqual([]);
    expect(new Set(after.answers.map((a) => a.version))).toEqual(new Set(['blue']));
  }, 45_000);
});
