// Replicas as users run them: two `sluice serve --store postgres://…` processes on one real
// PostgreSQL server. Both take writes at the same moment and every change is acknowledged; the
// database goes away for longer than the reconnect backoff and comes back, and both replicas turn
// ready again, hear each other again, and neither process died meanwhile.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';

let dir: string;
let postgres: PostgresServer;
let a: SluiceProcess;
let b: SluiceProcess;

async function http(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json().catch(() => undefined) };
}

/** Polls `probe` until it returns true (bounded): the way to wait for a state, never a fixed sleep. */
async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const replicaArgs = (): string[] => ['--store', postgres.url, '--xds-port', '0', '--admin-port', '0', '--admin-rate-limit', '10000'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-replicas-'));
  postgres = await startPostgres();
  a = await startSluiceProcess({ args: replicaArgs(), cwd: dir });
  b = await startSluiceProcess({ args: replicaArgs(), cwd: dir });
  const put = await http(a.adminUrl, 'PUT', '/v1/services/predict', blueGreenService({ port: 5001 }, { port: 5002 }, { listener: 'default' }));
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('two replica processes on one PostgreSQL', () => {
  it('acknowledges every change when both write at the same moment', async () => {
    const start = (await http(a.adminUrl, 'GET', '/v1/services/predict')).json;
    const before = Number((await http(a.adminUrl, 'GET', '/v1/services')).json.revision);
    expect(start.stable).toBe('blue');
    const refused: unknown[] = [];
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all([
        http(a.adminUrl, 'PUT', '/v1/services/predict/weights', { blue: 99.5 - round, green: 0.5 + round }),
        http(b.adminUrl, 'PUT', '/v1/services/predict/weights', { blue: 50 + (round % 50), green: 50 - (round % 50) }),
      ]);
      for (const result of results) if (result.status !== 200) refused.push(result.json);
    }
    expect(refused).toEqual([]);
    const last = before + 40;
    await until('both replicas at the last revision', async () => {
      const [ra, rb] = await Promise.all([a, b].map((r) => http(r.adminUrl, 'GET', '/v1/services')));
      return ra!.json.revision === last && rb!.json.revision === last;
    });
    const audit = (await http(b.adminUrl, 'GET', `/v1/audit?limit=100`)).json;
    const weightChanges = audit.entries.filter((e: any) => e.revision > before);
    expect(weightChanges).toHaveLength(40);
  });

  it('turns ready again after a database outage longer than the reconnect backoff, and hears the other replica', async () => {
    await postgres.pause();
    // While the database is away: not ready, and changes are refused clearly.
    await until('both replicas not ready', async () => {
      const [ra, rb] = await Promise.all([a, b].map((r) => http(r.adminUrl, 'GET', '/readyz')));
      return ra!.status === 503 && rb!.status === 503;
    });
    const refused = await http(a.adminUrl, 'PUT', '/v1/services/predict/weights', { blue: 10, green: 90 });
    expect(refused.status).toBe(503);
    expect(refused.json.error.code).toBe('SLUICE_STORE_UNAVAILABLE');
    // Longer than the first reconnect attempts: a replica that retried once would give up here.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await postgres.start();

    await until('both replicas ready again', async () => {
      const [ra, rb] = await Promise.all([a, b].map((r) => http(r.adminUrl, 'GET', '/readyz')));
      return ra!.status === 200 && rb!.status === 200;
    });
    const put = await http(a.adminUrl, 'PUT', '/v1/services/predict/weights', { blue: 30, green: 70 });
    expect(put.status).toBe(200);
    await until('the other replica hears the change', async () => {
      const seen = await http(b.adminUrl, 'GET', '/v1/services/predict');
      return seen.json.weights.green === 70;
    });
    // Neither process died or reported an uncaught error on the way.
    for (const replica of [a, b]) {
      expect(replica.child.exitCode).toBeNull();
      expect(replica.stderr()).toBe('');
      expect(replica.logs().filter((line) => line.level >= 60)).toEqual([]);
    }
  }, 90_000);
});
