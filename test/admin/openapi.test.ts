// The OpenAPI document against the routes the app really registers: every route documented with
// its schemas, only the document and the docs UI hidden, the token requirement documented as
// configured, and every answer of a session that calls every route (successes and refusals)
// valid against the response schema its route documents.

import type { FastifySchema } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCS_PREFIX, OPENAPI_URL } from '../../src/admin/access-rules.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import { ackAll, connect, versions } from './fleet-driver.js';
import { buildFullApp, type FullApp } from './full-app.js';
import { rolloutBody } from '../rollout/fixtures.js';
import { predictBody, send } from './harness.js';

interface RegisteredRoute {
  method: string;
  url: string;
  schema: (FastifySchema & { hide?: boolean; summary?: string; tags?: string[] }) | undefined;
}

let full: FullApp | undefined;
afterEach(async () => {
  await full?.close();
  full = undefined;
});

/** The app with every optional route, and the routes it registers (HEAD twins left out). */
async function appWithRoutes(extra: Parameters<typeof buildFullApp>[0] = {}) {
  full = await buildFullApp(extra);
  const routes: RegisteredRoute[] = [];
  full.app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, schema: route.schema as RegisteredRoute['schema'] });
    }
  });
  await full.app.ready();
  return { full, routes };
}

type Operation = { security?: unknown; parameters?: { in: string; name: string }[]; responses?: Record<string, { description?: string }> };

async function documentOf(full: FullApp) {
  const res = await full.app.inject({ method: 'GET', url: OPENAPI_URL });
  expect(res.statusCode).toBe(200);
  return res.json() as { openapi: string; paths: Record<string, Record<string, Operation>> };
}

/** `/v1/services/{name}` → `/v1/services/:name` */
function fastifyPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

describe('GET /openapi.json', () => {
  it('documents every route the app registers, and hides only the document and the docs UI', async () => {
    const { full, routes } = await appWithRoutes();
    const document = await documentOf(full);
    expect(document.openapi).toBe('3.1.0');

    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${fastifyPath(path)}`),
    );
    const visible = routes.filter((r) => !r.schema?.hide).map((r) => `${r.method} ${r.url}`);
    expect(documented.sort()).toEqual(visible.sort());
    expect(visible).toEqual(
      expect.arrayContaining([
        'GET /v1/revisions',
        'GET /v1/revisions/:revision',
        'GET /v1/revisions/:revision/diff',
        'POST /v1/revisions/:revision/restore',
        'GET /v1/nodes/:id/resources',
        'GET /metrics',
      ]),
    );
    for (const hidden of routes.filter((r) => r.schema?.hide)) {
      expect(hidden.url === OPENAPI_URL || hidden.url.startsWith(DOCS_PREFIX), hidden.url).toBe(true);
    }
  });

  it('gives every route a summary, tags, path parameter schemas and the answers it documents', async () => {
    const { routes } = await appWithRoutes();
    for (const { method, url, schema } of routes.filter((r) => !r.schema?.hide)) {
      const route = `${method} ${url}`;
      expect(schema?.summary, route).toBeTruthy();
      expect(schema?.tags, route).toHaveLength(1);
      if (url.includes(':')) expect(schema?.params, route).toBeDefined();
      const statuses = Object.keys((schema?.response ?? {}) as object);
      expect(statuses.filter((s) => s.startsWith('2')), route).not.toEqual([]);
      expect(statuses, route).toEqual(expect.arrayContaining(['4xx', '5xx']));
    }
  });

  it('marks exactly the calls that need the token as it is configured', async () => {
    const secured = (document: { paths: Record<string, Record<string, Operation>> }, path: string, method: string) =>
      document.paths[path]?.[method]?.security !== undefined;

    const open = await documentOf((await appWithRoutes()).full);
    expect(secured(open, '/v1/services/{name}', 'put')).toBe(false);
    await full?.close();

    const changes = await documentOf((await appWithRoutes({ auth: { token: 't0ken', reads: false } })).full);
    expect(secured(changes, '/v1/services/{name}', 'put')).toBe(true);
    expect(secured(changes, '/v1/revisions/{revision}/restore', 'post')).toBe(true);
    expect(secured(changes, '/v1/services/{name}', 'get')).toBe(false);
    await full?.close();

    const everything = await documentOf((await appWithRoutes({ auth: { token: 't0ken', reads: true } })).full);
    expect(secured(everything, '/v1/services/{name}', 'get')).toBe(true);
    expect(secured(everything, '/metrics', 'get')).toBe(true);
    expect(secured(everything, '/healthz', 'get')).toBe(false);
    expect(secured(everything, '/readyz', 'get')).toBe(false);
    const headers = everything.paths['/v1/services/{name}/weights']?.['put']?.parameters?.filter((p) => p.in === 'header');
    expect(headers?.map((p) => p.name).sort()).toEqual(['if-match', 'x-sluice-actor']);
  });

  it("documents the guards' refusals on every route they apply to: 403 SLUICE_CROSS_ORIGIN on changes, 421 SLUICE_UNKNOWN_HOST but on the probes", async () => {
    const document = await documentOf((await appWithRoutes({ hostNames: ['localhost', '127.0.0.1', '::1'] })).full);
    const operations = Object.entries(document.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({ path, method, operation })));
    const changes = operations.filter(({ method }) => !['get', 'head'].includes(method));
    expect(changes.map(({ method, path }) => `${method} ${path}`)).toEqual(expect.arrayContaining(['put /v1/services/{name}', 'post /v1/revisions/{revision}/restore']));
    for (const { path, method, operation } of operations) {
      const route = `${method} ${path}`;
      const probe = path === '/healthz' || path === '/readyz';
      expect(operation.responses?.['421']?.description, route).toEqual(probe ? undefined : expect.stringMatching(/^SLUICE_UNKNOWN_HOST: /));
      const change = changes.some((c) => c.operation === operation);
      expect(operation.responses?.['403']?.description, route).toEqual(change ? expect.stringMatching(/^SLUICE_CROSS_ORIGIN: /) : undefined);
    }
    await full?.close();

    // Without host names the app checks no Host, and says none.
    const unguarded = await documentOf((await appWithRoutes()).full);
    expect(unguarded.paths['/v1/services']?.['get']?.responses?.['421']).toBeUndefined();
    expect(unguarded.paths['/v1/services/{name}']?.['put']?.responses?.['403']?.description).toMatch(/^SLUICE_CROSS_ORIGIN: /);
  });

  it('serves the browsable docs at /docs', async () => {
    const { full } = await appWithRoutes();
    const page = await full.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const spec = await full.app.inject({ method: 'GET', url: `${DOCS_PREFIX}/json` });
    expect(Object.keys(spec.json().paths)).toEqual(Object.keys((await documentOf(full)).paths));
  });
});

describe('answers', () => {
  it('match the response schema of their route, for successes and refusals alike', async () => {
    full = await buildFullApp({ auth: { token: 't0ken', reads: false }, mutationRateLimit: 1000 });
    const problems: string[] = [];
    const answered = new Set<string>();
    full.app.addHook('onSend', async (request, reply, payload) => {
      const responses = request.routeOptions.schema?.response as Record<string, object> | undefined;
      const status = reply.statusCode;
      const schema = responses?.[String(status)] ?? responses?.[`${String(status)[0]}xx`];
      const route = `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
      answered.add(`${route} ${String(status)[0]}xx`);
      if (request.routeOptions.schema?.hide) return payload;
      if (schema === undefined) {
        problems.push(`${route} ${status}: no response schema`);
      } else if (!('content' in schema)) {
        const validate = request.compileValidationSchema(schema);
        if (!validate(JSON.parse(String(payload)))) problems.push(`${route} ${status}: ${JSON.stringify(validate.errors)}`);
      }
      return payload;
    });
    await full.app.ready();
    const { app, fleet, ledger } = full;
    const auth = { authorization: 'Bearer t0ken' };
    const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown, headers = auth) =>
      send(app, method, url, body, headers);

    const put = await call('PUT', '/v1/services/predict', {
      ...predictBody(),
      affinity: { version: { by: 'header', name: 'x-user-id' }, hash: [{ header: 'x-user-id' }] },
      mirror: { to: 'green', percent: 5 },
      rules: [{ match: { headers: { 'x-cohort': 'beta' } }, to: 'green' }],
    });
    expect(put.statusCode).toBe(200);
    await call('PUT', '/v1/services/predict/weights', { blue: 90, green: 10 });
    await call('POST', '/v1/services/predict/rollback');
    await call('POST', '/v1/services/predict/promote', { version: 'green' });
    await call('PUT', '/v1/listeners/edge', { port: 8081 });
    await call('DELETE', '/v1/listeners/edge');
    ledger.record(6, [{ group: 'default', versions: versions('r6') }]);
    connect(fleet, 1, 'edge-a');
    ackAll(fleet, 1, versions('r6'));
    fleet.nacked(1, CLUSTER_TYPE, 'bad', 'rejected by Envoy');
    for (const url of [
      '/healthz',
      '/readyz',
      '/v1/services',
      '/v1/services/predict',
      '/v1/listeners',
      '/v1/listeners/default',
      '/v1/audit',
      '/v1/revisions',
      '/v1/revisions/6',
      '/v1/revisions/1/diff',
      '/v1/revisions/6/diff',
      '/v1/proxies',
      '/v1/nodes/edge-a/resources',
      '/v1/nodes/edge-b/resources?envoyVersion=1.35.0&kind=per-type-delta',
      '/v1/nodes/grpc-1/resources?userAgent=gRPC%20Go',
      '/metrics',
    ]) {
      await call('GET', url);
    }
    // The guardrails' answers: a change that changes nothing, and one that ends a rollout.
    expect((await call('PUT', '/v1/services/predict/weights', { blue: 0, green: 100 })).json()).toMatchObject({ unchanged: true });
    expect((await call('POST', '/v1/services/predict/rollouts', rolloutBody({ candidate: 'blue' }))).statusCode).toBe(201);
    const overridden = await call('PUT', '/v1/services/predict/weights?override=rollout', { blue: 10, green: 90 });
    expect(overridden.json()).toMatchObject({ abortedRollout: { candidate: 'blue' } });
    await call('POST', '/v1/revisions/2/restore');
    await call('GET', `/v1/revisions/${full.store.current().revision}/diff`);
    await call('DELETE', '/v1/services/predict');
    // Refusals: unknown, invalid, stale, unauthenticated, and a route that does not exist.
    await call('GET', '/v1/services/nope');
    await call('GET', '/v1/revisions/99');
    await call('GET', '/v1/audit?limit=0');
    await call('PUT', '/v1/services/predict/weights', { blue: 1 });
    await call('POST', '/v1/revisions/1/restore', undefined, { ...auth, 'if-match': '1' } as typeof auth);
    await call('PUT', '/v1/listeners/edge', { port: 8082 }, {} as typeof auth);
    await call('GET', '/v1/nodes/x/resources?kind=carrier-pigeon');

    expect(problems).toEqual([]);
    expect([...answered].filter((a) => a.endsWith(' 2xx')).sort()).toEqual(
      expect.arrayContaining([
        'DELETE /v1/listeners/:name 2xx',
        'DELETE /v1/services/:name 2xx',
        'GET /healthz 2xx',
        'GET /metrics 2xx',
        'GET /readyz 2xx',
        'GET /v1/audit 2xx',
        'GET /v1/listeners 2xx',
        'GET /v1/listeners/:name 2xx',
        'GET /v1/nodes/:id/resources 2xx',
        'GET /v1/proxies 2xx',
        'GET /v1/revisions 2xx',
        'GET /v1/revisions/:revision 2xx',
        'GET /v1/revisions/:revision/diff 2xx',
        'GET /v1/services 2xx',
        'GET /v1/services/:name 2xx',
        'POST /v1/revisions/:revision/restore 2xx',
        'POST /v1/services/:name/promote 2xx',
        'POST /v1/services/:name/rollback 2xx',
        'PUT /v1/listeners/:name 2xx',
        'PUT /v1/services/:name 2xx',
        'PUT /v1/services/:name/weights 2xx',
      ]),
    );
    expect([...answered].filter((a) => a.endsWith(' 4xx'))).toHaveLength(7);
  });
});
