// The benchmarks' view of sluice's admin API: define services, move weights, wait for a revision
// to reach the fleet, read /metrics. Loopback HTTP only.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, now, sleep } from './util.js';

export interface RevisionReport {
  revision: number;
  current: number;
  complete: boolean;
  proxies: { node: { id: string }; streams: { id: number }[]; appliedRevision: number | null; applied: boolean }[];
  note?: string;
}

/** The demo's service (`demo/service.json`): blue and green, one IP endpoint each, all traffic to blue. */
export function demoService(ports?: { blue: number; green: number }): Record<string, any> {
  const service = JSON.parse(readFileSync(join(REPO_ROOT, 'demo', 'service.json'), 'utf8')) as Record<string, any>;
  if (ports) {
    for (const version of service['versions'] as { name: 'blue' | 'green'; endpoints: { port: number }[] }[]) {
      for (const endpoint of version.endpoints) endpoint.port = ports[version.name];
    }
  }
  return service;
}

export class AdminClient {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<{ status: number; headers: Headers; json: any }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))) }),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: any;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, json };
  }

  /** Mutations answered 429 (sluice's per-client change rate limit) and retried after Retry-After. */
  rateLimited = 0;

  /** A mutation; returns the new revision (from the ETag). A 429 is retried after its Retry-After. */
  async mutate(method: string, path: string, body?: unknown): Promise<number> {
    let answer = await this.request(method, path, body);
    for (let retry = 0; answer.status === 429 && retry < 10; retry++) {
      this.rateLimited++;
      const after = Number(answer.headers.get('retry-after'));
      await sleep(Number.isFinite(after) && after > 0 ? after * 1000 : 1000);
      answer = await this.request(method, path, body);
    }
    const { status, headers, json } = answer;
    if (status !== 200 && status !== 201) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(json)}`);
    const revision = Number((headers.get('etag') ?? '').replace(/"/g, ''));
    if (!Number.isInteger(revision) || revision < 1) throw new Error(`${method} ${path}: no revision in ETag ${headers.get('etag')}`);
    return revision;
  }

  putService(name: string, body: unknown): Promise<number> {
    return this.mutate('PUT', `/v1/services/${name}`, body);
  }

  putWeights(name: string, weights: Record<string, number>): Promise<number> {
    return this.mutate('PUT', `/v1/services/${name}/weights`, weights);
  }

  rollback(name: string): Promise<number> {
    return this.mutate('POST', `/v1/services/${name}/rollback`);
  }

  async currentRevision(): Promise<number> {
    const { status, headers } = await this.request('GET', '/v1/services');
    if (status !== 200) throw new Error(`GET /v1/services: ${status}`);
    return Number((headers.get('etag') ?? '').replace(/"/g, ''));
  }

  /** GET /v1/revisions/{n}?wait=…; one call. */
  async revision(revision: number, waitMs: number, timeoutMs?: number): Promise<RevisionReport> {
    const wait = waitMs > 0 ? `?wait=${Math.max(1, Math.round(waitMs / 1000))}s` : '';
    const { status, json } = await this.request('GET', `/v1/revisions/${revision}${wait}`, undefined, timeoutMs);
    if (status !== 200) throw new Error(`GET /v1/revisions/${revision}: ${status} ${JSON.stringify(json)}`);
    return json as RevisionReport;
  }

  /**
   * Waits (long-polling `?wait=30s`, or with `how: 'poll'` plain GETs every 10 ms) until `revision` is complete with at least `proxies` proxies
   * connected (and `accept` agrees); `at` is when the satisfying answer arrived (clock of util.now). `complete: false`
   * once `timeoutMs` has passed.
   */
  async waitComplete(
    revision: number,
    proxies: number,
    timeoutMs: number,
    how: 'wait' | 'poll' = 'wait',
    accept: (report: RevisionReport) => boolean = () => true,
  ): Promise<{ complete: boolean; at: number; report: RevisionReport }> {
    const deadline = now() + timeoutMs;
    const satisfied = (report: RevisionReport): boolean => report.complete && report.proxies.length >= proxies && accept(report);
    for (;;) {
      const left = deadline - now();
      if (how === 'poll') {
        // Plain GETs every 10 ms: no waiter inside sluice re-evaluating the fleet on every ACK.
        const report = await this.revision(revision, 0);
        const at = now();
        if (satisfied(report)) return { complete: true, at, report };
        if (at >= deadline) return { complete: false, at, report };
        await sleep(10);
        continue;
      }
      // A busy sluice answers late: give up on the call itself once the deadline has passed.
      const report = await this.revision(revision, Math.min(30_000, Math.max(1_000, left)), left + 2_000).catch((error: Error) => {
        if (error.name === 'TimeoutError' || error.name === 'AbortError') return undefined;
        throw error;
      });
      const at = now();
      if (report === undefined) return { complete: false, at, report: { revision, current: Number.NaN, complete: false, proxies: [] } };
      if (satisfied(report)) return { complete: true, at, report };
      if (at >= deadline) return { complete: false, at, report };
      // Complete but not everyone is back yet: the answer came at once, so poll gently.
      if (report.complete) await sleep(5);
    }
  }

  /** /metrics as `series → value` (series with labels keep them: `name{a="b"}`). */
  async metrics(): Promise<Map<string, number>> {
    const response = await fetch(`${this.baseUrl}/metrics`);
    const text = await response.text();
    const series = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return series;
  }
}
