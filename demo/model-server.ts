// A small real HTTP model server for the demo: one version of a linear "ML model" answering
// POST /predict and GET /healthz with node:http only. Owns nothing but its own listening socket;
// it knows nothing about sluice or Envoy beyond tagging each answer with its version.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const MODEL_NAME = 'linear-v1';
const MAX_BODY_BYTES = 64 * 1024;
const MAX_DELAY_MS = 60_000;
// Longer than any upstream idle timeout a proxy should use, so the proxy (not this server)
// closes idle keep-alive connections and never reuses one this server is closing.
const KEEP_ALIVE_TIMEOUT_MS = 75_000;

export interface LinearModel {
  coefficients: number[];
  intercept: number;
}

export interface ModelServerOptions {
  version: string;
  host?: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  model: LinearModel;
  /** Names this instance when a version runs several replicas; echoed in every answer. */
  replica?: string;
  /** Share of predictions answered with a 503, to play a broken model (0 by default). */
  failureRate?: number;
  /**
   * Share of inputs on which the prediction is off by one (0 by default), to play a candidate that
   * disagrees with another version on a known share: chosen by a hash of the features, so one input
   * always gets the same answer.
   */
  quirkShare?: number;
}

/** Where a hash of the features falls in [0, 1): the same features, the same place. */
export function inputPlace(features: readonly number[]): number {
  return createHash('sha256').update(JSON.stringify(features)).digest().readUInt32BE(0) / 2 ** 32;
}

export interface ModelServer {
  version: string;
  port: number;
  url: string;
  close(): Promise<void>;
  /** `requests` counts every request to /predict, whatever its outcome; `failed` the 503s it chose. */
  stats: { requests: number; failed: number };
  /** Changes the share of predictions that fail (also `POST /control {"failureRate": 0.5}`). */
  setFailureRate(rate: number): void;
}

export function predict(model: LinearModel, features: readonly number[]): number {
  const sum = model.coefficients.reduce((acc, c, i) => acc + c * (features[i] ?? 0), model.intercept);
  return Math.round(sum * 10_000) / 10_000;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseFeatures(raw: string, expected: number): number[] {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'body must be JSON like {"features":[1,2,3]}');
  }
  const features = (body as { features?: unknown } | null)?.features;
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'number' && Number.isFinite(f))) {
    throw new HttpError(400, 'features must be an array of finite numbers');
  }
  if (features.length !== expected) {
    throw new HttpError(400, `features must have exactly ${expected} numbers, got ${features.length}`);
  }
  return features as number[];
}

export function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const { version, model, host = '127.0.0.1', port = 0, replica, quirkShare = 0 } = options;
  const stats = { requests: 0, failed: 0 };
  let failureRate = options.failureRate ?? 0;
  const setFailureRate = (rate: number): void => {
    if (!(rate >= 0 && rate <= 1)) throw new HttpError(400, 'failureRate must be a number from 0 to 1');
    failureRate = rate;
  };
  setFailureRate(failureRate);
  const served = { 'x-served-by': version };

  async function handlePredict(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests += 1;
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'method not allowed, use POST' }, { ...served, allow: 'POST' });
      return;
    }
    try {
      const features = parseFeatures(await readBody(req), model.coefficients.length);
      // Lets a test or a demo user play a slow model: `x-demo-delay-ms: 1500`.
      const delay = Math.min(Number(req.headers['x-demo-delay-ms']) || 0, MAX_DELAY_MS);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (Math.random() < failureRate) {
        stats.failed += 1;
        sendJson(res, 503, { error: `${version} is failing on purpose (failureRate ${failureRate})` }, served);
        return;
      }
      const quirk = quirkShare > 0 && inputPlace(features) < quirkShare ? 1 : 0;
      const answer = { version, prediction: predict(model, features) + quirk, model: MODEL_NAME };
      sendJson(res, 200, replica === undefined ? answer : { ...answer, replica }, served);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      // Stop reading an oversized body: the connection cannot be reused after it.
      if (err.status === 413) res.setHeader('connection', 'close');
      sendJson(res, err.status, { error: err.message }, served);
    }
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/predict') {
      handlePredict(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(err) }, served);
        else res.destroy();
      });
    } else if (path === '/control' && req.method === 'POST') {
      readBody(req)
        .then((text) => {
          setFailureRate((JSON.parse(text) as { failureRate?: unknown }).failureRate as number);
          sendJson(res, 200, { version, failureRate }, served);
        })
        .catch((err: unknown) => sendJson(res, err instanceof HttpError ? err.status : 400, { error: String(err) }, served));
    } else if (path === '/healthz') {
      if (req.method === 'GET' || req.method === 'HEAD') sendJson(res, 200, { status: 'ok', version }, served);
      else sendJson(res, 405, { error: 'method not allowed, use GET' }, { ...served, allow: 'GET, HEAD' });
    } else {
      sendJson(res, 404, { error: `no route for ${path}` }, served);
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        version,
        port: bound,
        url: `http://${urlHost}:${bound}`,
        stats,
        setFailureRate,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
