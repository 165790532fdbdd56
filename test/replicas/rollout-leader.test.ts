// One leader at a time runs rollouts across replica processes sharing PostgreSQL: when the leader
// process is killed outright (no clean stop, its lease left to expire), the other replica takes
// over after the lease time and continues the rollout from its stored step — no step applied
// twice, none skipped.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';

let postgres: PostgresServer;
let dir: string;
const replicas: SluiceProcess[] = [];

async function call(replica: SluiceProcess, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${replica.adminUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

/** The pid in the rollout lease's holder (`<host>-<pid>-<id>`), read from the database. */
async function leaderPid(): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ holder: string }>("SELECT holder FROM leases WHERE name = 'rollouts' AND expires_at > now()");
    const match = rows[0] === undefined ? null : /-(\d+)-[0-9a-f]+$/.exec(rows[0].holder);
    return match ? Number(match[1]) : undefined;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-leader-'));
  postgres = await startPostgres();
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await startSluiceProcess({
        args: ['--store', postgres.url, '--xds-port', '0', '--admin-port', '0', '--leader-lease-ms', '1500'],
        cwd: dir,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rollouts across replicas', () => {
  it('continue on another replica when the leader process dies, without repeating or skipping a step', async () => {
    const service = {
      match: { prefix: '/predict' },
      versions: [
        { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
        { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
      ],
    };
    expect((await call(replicas[0]!, 'PUT', '/v1/services/predict', service)).status).toBe(200);
    await expect.poll(leaderPid, { timeout: 10_000 }).not.toBeUndefined();
    const pid = await leaderPid();
    const dying = replicas.find((replica) => replica.child.pid === pid)!;
    const survivor = replicas.find((replica) => replica !== dying)!;
    expect(dying).toBeDefined();

    const started = await call(survivor, 'POST', '/v1/services/predict/rollouts', {
      candidate: 'green',
      steps: [
        { weight: 20, hold: '2s' },
        { weight: 50, hold: '2s' },
        { weight: 80, hold: '1s' },
      ],
      analysis: { interval: '1s', metrics: [] },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(201);

    // The leader puts the first step on; then it dies without a word.
    await expect.poll(async () => (await call(survivor, 'GET', '/v1/services/predict/rollout')).json.weights?.green, { timeout: 10_000 }).toBe(20);
    await dying.stop('SIGKILL');

    await expect.poll(async () => (await call(survivor, 'GET', '/v1/services/predict/rollout')).json.phase, { timeout: 30_000, interval: 200 }).toBe('succeeded');
    expect(await leaderPid()).toBe(survivor.child.pid);
    expect((await call(survivor, 'GET', '/v1/services/predict')).json.stable).toBe('green');

    // The audit log: each step's weights exactly once, in order, then the promotion.
    const audit = await call(survivor, 'GET', '/v1/audit?limit=100');
    const greenWeights = (audit.json.entries as { revision: number; actor: string; summary: string }[])
      .filter((e) => e.actor === 'rollout')
      .sort((a, b) => a.revision - b.revision)
      .map((e) => /green (\d+)/.exec(e.summary)?.[1])
      .filter((w): w is string => w !== undefined);
    expect(greenWeights).toEqual(['20', '50', '80', '100']);
  }, 60_000);
});
