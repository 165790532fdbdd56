// The README's rollout examples as written: every `curl … /rollouts -d '…'` body of its Rollouts
// section, extracted from README.md, is POSTed to a running sluice holding the demo's service and
// must start a rollout (201) whose GET answers the complete rollout.

import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const DEMO_SERVICE = readFileSync(new URL('../../demo/service.json', import.meta.url), 'utf8');

/** The `-d '…'` bodies of the rollout-starting curl commands in the README's Rollouts section. */
function readmeRolloutBodies(): string[] {
  const section = README.split(/^## /m).find((part) => part.startsWith('Rollouts\n'));
  if (section === undefined) throw new Error('README.md has no "## Rollouts" section');
  return [...section.matchAll(/\/v1\/services\/predict\/rollouts -d '([^']*)'/g)].map((match) => match[1]!);
}

let sluice: RunningSluice;

beforeAll(async () => {
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:' },
    pino({ level: 'silent' }),
  );
});
afterAll(async () => {
  await sluice.stop();
});

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: any }> {
  // As curl -d sends it: application/x-www-form-urlencoded, the body verbatim.
  const headers = body === undefined ? undefined : { 'content-type': 'application/x-www-form-urlencoded' };
  const response = await fetch(`${sluice.adminUrl}${path}`, { method, ...(headers ? { headers } : {}), ...(body === undefined ? {} : { body }) });
  return { status: response.status, json: await response.json() };
}

describe("the README's rollout examples", () => {
  it('are there: the full example, the relative metric and the one without analysis', () => {
    expect(readmeRolloutBodies()).toHaveLength(3);
  });

  it.each(readmeRolloutBodies().map((body, i) => ({ i, body })))('example $i starts a rollout as written', async ({ body }) => {
    expect((await call('PUT', '/v1/services/predict', DEMO_SERVICE)).status).toBe(200);
    const started = await call('POST', '/v1/services/predict/rollouts', body);
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    const read = await call('GET', '/v1/services/predict/rollout');
    expect(read.json.candidate).toBe('green');
    for (const step of read.json.steps) expect(step.approve === true || typeof step.hold === 'string').toBe(true);
    expect(read.json.analysis).toHaveProperty('interval');
    expect(read.json.analysis).toHaveProperty('metrics');
    // End it (all traffic to stable) so the next example can start.
    expect((await call('POST', '/v1/services/predict/rollout/abort')).status).toBe(200);
  });
});
