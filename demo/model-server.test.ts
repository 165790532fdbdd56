// Unit tests for the demo model server: prediction maths, the HTTP contract of /predict and
// /healthz, and request accounting. Touches only servers it starts on free loopback ports.

import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_MODELS } from './demo-models.js';
import { MODEL_NAME, predict, startModelServer, type ModelServer } from './model-server.js';

const blue = DEMO_MODELS.blue!.model;
const started: ModelServer[] = [];

async function start(version = 'blue'): Promise<ModelServer> {
  const server = await startModelServer({ version, model: DEMO_MODELS[version]!.model });
  started.push(server);
  return server;
}

function post(server: ModelServer, body?: string): Promise<Response> {
  return fetch(`${server.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

describe('predict', () => {
  it('computes the linear model rounded to 4 decimals', () => {
    expect(predict(blue, [1, 2, 3])).toBe(1.3);
    expect(predict(DEMO_MODELS.green!.model, [1, 2, 3])).toBe(1.41);
    expect(predict({ coefficients: [1 / 3], intercept: 0 }, [1])).toBe(0.3333);
  });
});

describe('startModelServer', () => {
  it('binds a free port on loopback when port is 0', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.version).toBe('blue');
  });

  it('answers POST /predict with version, prediction, model and x-served-by', async () => {
    const server = await start('green');
    const res = await post(server, JSON.stringify({ features: [1, 2, 3] }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-by')).toBe('green');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ version: 'green', prediction: 1.41, model: MODEL_NAME });
    expect(server.stats.requests).toBe(1);
  });

  it.each([
    ['no body', undefined],
    ['invalid JSON', '{"features": ['],
    ['no features', '{}'],
    ['null body', 'null'],
    ['non-numeric features', '{"features":[1,"2",3]}'],
    ['wrong feature count', '{"features":[1,2]}'],
  ])('rejects %s with a 400 JSON error', async (_name, body) => {
    const server = await start();
    const res = await post(server, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-served-by')).toBe('blue');
    expect(await res.json()).toEqual({ error: expect.any(String) });
  });

  it('rejects an oversized body with 413', async () => {
    const server = await start();
    const res = await post(server, JSON.stringify({ features: new Array(100_000).fill(1) }));
    expect(res.status).toBe(413);
  });

  it('answers 405 with Allow for other methods on /predict', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/predict`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toEqual({ error: expect.any(String) });
  });

  it('answers GET /healthz without counting it as a prediction', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: 'blue' });
    expect(server.stats.requests).toBe(0);
  });

  it('answers 404 for unknown paths', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
  });

  it('counts every /predict request', async () => {
    const server = await start();
    const body = JSON.stringify({ features: [0, 0, 0] });
    await Promise.all([post(server, body), post(server, body), post(server, 'x')].map(async (r) => (await r).text()));
    expect(server.stats.requests).toBe(3);
  });

  it('closes promptly even with an idle keep-alive connection open', async () => {
    const server = await startModelServer({ version: 'blue', model: blue });
    await (await post(server, JSON.stringify({ features: [1, 1, 1] }))).text();
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const server = await start();
    await expect(startModelServer({ version: 'green', port: server.port, model: blue })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('failure injection', () => {
  it('fails the configured share of predictions with 503, and can be changed at run time', async () => {
    const server = await startModelServer({ version: 'green', model: { coefficients: [1], intercept: 0 }, failureRate: 1 });
    try {
      const post = () => fetch(`${server.url}/predict`, { method: 'POST', body: '{"features":[1]}' });
      expect((await post()).status).toBe(503);
      const control = await fetch(`${server.url}/control`, { method: 'POST', body: '{"failureRate":0}' });
      expect(await control.json()).toEqual({ version: 'green', failureRate: 0 });
      expect((await post()).status).toBe(200);
      expect((await fetch(`${server.url}/control`, { method: 'POST', body: '{"failureRate":2}' })).status).toBe(400);
      expect(server.stats).toEqual({ requests: 2, failed: 1 });
    } finally {
      await server.close();
    }
  });
});
