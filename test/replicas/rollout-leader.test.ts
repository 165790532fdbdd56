// One leader at a time runs rollouts across replicas sharing PostgreSQL: when the leader stops,
// another replica takes over within the lease time and continues the rollout from its stored
// step — no step applied twice, none skipped.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

let postgres: PostgresServer;
const replicas: (RunningSluice | undefined)[] = [];

async function call(replica: RunningSluice, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${replica.adminUrl}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  postgres = await startPostgres();
  for (let i = 0; i < 2; i++) {
    const config = { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: await freePort(), adminPort: 0, store: postgres.url, listenerPort: await freePort(), logLevel: 'warn', leaderLeaseMs: 1500 };
    replicas.push(await startSluice(config, pino({ level: 'silent' })));
  }
}, 60_000);

afterAll(async () => {
  for (const replica of replicas) await replica?.stop();
  await postgres?.stop();
});

describe('rollouts across replicas', () => {
  it('continue on another replica when the leader dies, without repeating or skipping a step', async () => {
    const first = replicas[0]!;
    const second = replicas[1]!;
    const service = {
      match: { prefix: '/predict' },
      versions: [
        { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
        { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
      ],
    };
    expect((await call(first, 'PUT', '/v1/services/predict', service)).status).toBe(200);
    const started = await call(second, 'POST', '/v1/services/predict/rollouts', {
      candidate: 'green',
      steps: [
        { weight: 20, hold: '2s' },
        { weight: 50, hold: '2s' },
        { weight: 80, hold: '1s' },
      ],
      analysis: { interval: '1s', metrics: [] },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(201);

    // Both replicas see the rollout move; stop the first once the first step is on.
    await expect.poll(async () => (await call(second, 'GET', '/v1/services/predict/rollout')).json.weights?.green, { timeout: 10_000 }).toBe(20);
    await first.stop();
    replicas[0] = undefined;

    await expect.poll(async () => (await call(second, 'GET', '/v1/services/predict/rollout')).json.phase, { timeout: 20_000, interval: 200 }).toBe('succeeded');
    const service_ = await call(second, 'GET', '/v1/services/predict');
    expect(service_.json.stable).toBe('green');

    // The audit log: each step's weights exactly once, in order, then the promotion.
    const audit = await call(second, 'GET', '/v1/audit?limit=100');
    const greenWeights = (audit.json.entries as { revision: number; actor: string; summary: string }[])
      .filter((e) => e.actor === 'rollout')
      .sort((a, b) => a.revision - b.revision)
      .map((e) => /green (\d+)/.exec(e.summary)?.[1])
      .filter((w): w is string => w !== undefined);
    expect(greenWeights).toEqual(['20', '50', '80', '100']);
  }, 60_000);
});
