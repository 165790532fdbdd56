// Session affinity and traffic policies through a real Envoy, three replicas per version:
// key-based version affinity (use_hash_policy) that only ever moves users from stable to
// candidate during a ramp, replica affinity inside a version, cohort cookies, A/B rules, the
// mirror and the per-service timeout.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from '../../demo/demo-models.js';
import { startModelServer, type ModelServer } from '../../demo/model-server.js';
import { freePort } from '../support/ports.js';
import { startStack, type SluiceStack } from '../support/sluice-stack.js';
import { withinBinomialTolerance } from './traffic.js';

const KEYS = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
let stack: SluiceStack;
const replicas: Record<string, ModelServer[]> = { blue: [], green: [] };

interface Served {
  status: number;
  version: string;
  replica: string;
  setCookie: string | null;
}

async function call(headers: Record<string, string> = {}): Promise<Served> {
  const response = await fetch(`${stack.listenerUrl}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"features":[1,2,3]}',
  });
  const body = (await response.json().catch(() => ({}))) as { version?: string; replica?: string };
  return { status: response.status, version: body.version ?? '', replica: body.replica ?? '', setCookie: response.headers.get('set-cookie') };
}

/** Calls once per key (bounded concurrency) and returns key → what served it. */
async function serveKeys(keys: string[]): Promise<Map<string, Served>> {
  const results = new Map<string, Served>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      results.set(key, await call({ 'x-user-id': key }));
    }
  };
  await Promise.all(Array.from({ length: 24 }, worker));
  for (const [key, served] of results) expect(served.status, `request for ${key}`).toBe(200);
  return results;
}

function versions(endpointsOf: (version: string) => { address: string; port: number }[]) {
  return ['blue', 'green'].map((name) => ({ name, endpoints: endpointsOf(name) }));
}

function serviceBody(extra: Record<string, unknown>, weights = { blue: 100, green: 0 }) {
  return {
    match: { prefix: '/predict' },
    versions: versions((name) => replicas[name]!.map((r) => ({ address: '127.0.0.1', port: r.port }))),
    weights,
    stable: 'blue',
    ...extra,
  };
}

async function apply(method: string, path: string, body?: unknown): Promise<void> {
  const result = await stack.admin(method, path, body);
  expect(result.status, JSON.stringify(result.json)).toBe(200);
  await stack.waitApplied(result.json.revision);
}

beforeAll(async () => {
  for (const version of ['blue', 'green']) {
    for (let i = 0; i < 3; i++) {
      replicas[version]!.push(await startModelServer({ version, replica: `${version}-${i}`, model: DEMO_MODELS[version]!.model }));
    }
  }
  stack = await startStack({ nodeId: 'affinity-envoy' });
});

afterAll(async () => {
  await stack?.stop();
  for (const list of Object.values(replicas)) for (const server of list) await server.close();
});

describe('version affinity by header (use_hash_policy)', () => {
  it('keeps users on one version during a ramp, moving them only from stable to candidate', async () => {
    await apply('PUT', '/v1/services/predict', serviceBody({ affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }] } }, { blue: 90, green: 10 }));
    const dump = await stack.envoy.configDump('dynamic_route_configs');
    const split = dump.configs[0].route_config.virtual_hosts[0].routes.find((r: any) => r.name === 'predict_split');
    expect(split.route.weighted_clusters.use_hash_policy).toBe(true);
    expect(split.route.hash_policy).toEqual([{ header: { header_name: 'x-user-id' } }]);

    let previous = await serveKeys(KEYS);
    const again = await serveKeys(KEYS.slice(0, 300));
    for (const [key, served] of again) {
      expect(served.version, key).toBe(previous.get(key)!.version);
      expect(served.replica, key).toBe(previous.get(key)!.replica);
    }
    const replicaSeen = new Set<string>();
    for (const step of [10, 50, 90]) {
      if (step !== 10) await apply('PUT', '/v1/services/predict/weights', { blue: 100 - step, green: step });
      const current = step === 10 ? previous : await serveKeys(KEYS);
      const green = [...current.values()].filter((s) => s.version === 'green').length;
      expect(withinBinomialTolerance(green, KEYS.length, step / 100), `${green} of ${KEYS.length} keys on green at ${step}%`).toBe(true);
      for (const [key, served] of current) {
        const before = previous.get(key)!;
        if (before.version === 'green') expect(served.version, `${key} moved back from green at ${step}%`).toBe('green');
        // A user who stays in a version stays on its replica.
        if (before.version === served.version) expect(served.replica, key).toBe(before.replica);
        replicaSeen.add(served.replica);
      }
      previous = current;
    }
    // Keys spread over every replica of both versions.
    expect([...replicaSeen].sort()).toEqual(['blue-0', 'blue-1', 'blue-2', 'green-0', 'green-1', 'green-2']);
    expect((await stack.envoy.stats('server.dynamic_unknown_fields'))['server.dynamic_unknown_fields']).toBe(0);
  });

  it('rollback brings every candidate user back to stable, on the replica it had there', async () => {
    const atBlue = await serveKeys(KEYS);
    await apply('POST', '/v1/services/predict/rollback');
    const after = await serveKeys(KEYS);
    expect(new Set([...after.values()].map((s) => s.version))).toEqual(new Set(['blue']));
    for (const [key, served] of after) {
      if (atBlue.get(key)!.version === 'blue') expect(served.replica, key).toBe(atBlue.get(key)!.replica);
    }
  });
});

describe('cohort cookies (any Envoy)', () => {
  const COOKIE = 'sluice-cohort';

  function cohortOf(setCookie: string | null): string | undefined {
    const match = new RegExp(`(?:^|,\\s*)${COOKIE}=([^;]*)`).exec(setCookie ?? '');
    return match?.[1];
  }

  it('keeps a client holding its cookie on its version across steps, and moves it back on rollback', async () => {
    await apply('PUT', '/v1/services/predict', serviceBody({ affinity: { version: { by: 'cohortCookie', name: COOKIE, ttl: '1h' } } }, { blue: 50, green: 50 }));
    const clients = Array.from({ length: 200 }, () => ({ cookie: undefined as string | undefined, version: '' }));
    for (const client of clients) {
      const served = await call();
      client.version = served.version;
      client.cookie = cohortOf(served.setCookie);
      expect(client.cookie, 'the first answer sets the cohort cookie').toBe(served.version);
    }
    const greenShare = clients.filter((c) => c.version === 'green').length;
    expect(withinBinomialTolerance(greenShare, clients.length, 0.5)).toBe(true);

    await apply('PUT', '/v1/services/predict/weights', { blue: 10, green: 90 });
    for (const client of clients) {
      const served = await call({ cookie: `other=1; ${COOKIE}=${client.cookie}` });
      expect(served.version).toBe(client.version);
    }

    await apply('POST', '/v1/services/predict/rollback');
    for (const client of clients) {
      const served = await call({ cookie: `${COOKIE}=${client.cookie}` });
      expect(served.version).toBe('blue');
      if (client.cookie === 'green') {
        // The green cohort cookie is replaced by a short-lived stable one.
        expect(cohortOf(served.setCookie)).toBe('blue');
        expect(served.setCookie).toMatch(/Max-Age=300/);
      }
    }
  });
});

describe('rules, mirror and timeout', () => {
  it('sends an A/B cohort to green whatever the weights', async () => {
    await apply('PUT', '/v1/services/predict', serviceBody({ rules: [{ match: { headers: { 'x-tenant': 'acme' } }, to: 'green' }] }));
    for (let i = 0; i < 30; i++) expect((await call({ 'x-tenant': 'acme' })).version).toBe('green');
    for (let i = 0; i < 30; i++) expect((await call({ 'x-tenant': 'other' })).version).toBe('blue');
  });

  it('copies about the configured share to the mirror, and clients never see its answers', async () => {
    await apply('PUT', '/v1/services/predict', serviceBody({ mirror: { to: 'green', percent: 20 } }));
    const greenBefore = replicas['green']!.reduce((sum, r) => sum + r.stats.requests, 0);
    const n = 500;
    for (let i = 0; i < n; i++) expect((await call()).version).toBe('blue');
    await expect
      .poll(() => replicas['green']!.reduce((sum, r) => sum + r.stats.requests, 0) - greenBefore, { timeout: 5000 })
      .toBeGreaterThan(0);
    const mirrored = replicas['green']!.reduce((sum, r) => sum + r.stats.requests, 0) - greenBefore;
    expect(withinBinomialTolerance(mirrored, n, 0.2), `${mirrored} of ${n} mirrored at 20%`).toBe(true);
  });

  it('health-checks every replica and takes a dead one out of rotation', async () => {
    const deadPort = await freePort();
    const body = serviceBody({ healthCheck: { path: '/healthz', interval: '1s', timeout: '500ms' } });
    body.versions[0]!.endpoints.push({ address: '127.0.0.1', port: deadPort });
    await apply('PUT', '/v1/services/predict', body);
    await expect
      .poll(async () => (await (await fetch(`${stack.envoy.adminUrl}/clusters`)).text()).includes(`predict_blue::127.0.0.1:${deadPort}::health_flags::/failed_active_hc`), {
        timeout: 10_000,
      })
      .toBe(true);
    const blueRequests = replicas['blue']!.map((r) => r.stats.requests);
    for (let i = 0; i < 60; i++) expect((await call()).status).toBe(200);
    // Every request reached a live replica; they all got some.
    replicas['blue']!.forEach((r, i) => expect(r.stats.requests).toBeGreaterThan(blueRequests[i]!));
  });

  it('cuts a request that outlives the service timeout, and lets one through under it', async () => {
    await apply('PUT', '/v1/services/predict', serviceBody({ timeout: '500ms' }));
    expect((await call({ 'x-demo-delay-ms': '1500' })).status).toBe(504);
    await apply('PUT', '/v1/services/predict', serviceBody({ timeout: '5s' }));
    expect((await call({ 'x-demo-delay-ms': '1500' })).status).toBe(200);
  });
});
