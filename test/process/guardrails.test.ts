// The rollout guardrails end to end through real processes: `sluice serve` with a rollout
// waiting at its approval step, and the CLI run as its own process — set-weights refused with
// the server's message and exit 1, then --force aborting the rollout and saying so.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { runSluice, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';

let dir: string;
let sluice: SluiceProcess;

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-guardrails-'));
  sluice = await startSluiceProcess({ args: ['--xds-port', '0', '--admin-port', '0'], cwd: dir });
  expect((await http('PUT', '/v1/services/predict', blueGreenService({ port: 5001 }, { port: 5002 }))).status).toBe(200);
});

afterAll(async () => {
  await sluice?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('the CLI cannot abort a rollout by accident: set-weights is refused (exit 1) until --force, which says it aborted the rollout', async () => {
  const rollout = { candidate: 'green', steps: [{ approve: true }, { weight: 100, hold: '0s' }], analysis: { interval: '30s', metrics: [] } };
  expect((await http('POST', '/v1/services/predict/rollouts', rollout)).status).toBe(201);
  await vi.waitFor(async () => expect((await http('GET', '/v1/services/predict/rollout')).json.phase).toBe('awaiting-approval'), {
    timeout: 10_000,
    interval: 50,
  });
  const before = (await http('GET', '/v1/services/predict')).json.revision;

  const refused = await runSluice(['set-weights', 'predict', 'blue=90', 'green=10', '--server', sluice.adminUrl]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/^sluice: SLUICE_ROLLOUT_IN_PROGRESS: Service "predict" has an active rollout of "green" \(awaiting-approval/);
  expect(refused.stderr).toMatch(/repeat with --force\.\n$/);
  expect((await http('GET', '/v1/services/predict')).json).toMatchObject({ revision: before, weights: { blue: 100, green: 0 } });

  const forced = await runSluice(['set-weights', 'predict', 'blue=90', 'green=10', '--force', '--server', sluice.adminUrl]);
  expect(forced).toEqual({
    code: 0,
    stdout: `predict: aborted the rollout of green (it was awaiting-approval)\npredict: blue 90, green 10 (stable blue), revision ${before + 1}\n`,
    stderr: '',
  });
  expect((await http('GET', '/v1/services/predict/rollout')).json).toMatchObject({ phase: 'aborted', weights: { blue: 90, green: 10 } });

  // The same weights again change nothing: no new revision.
  const again = await runSluice(['set-weights', 'predict', 'blue=90', 'green=10', '--server', sluice.adminUrl]);
  expect(again.stdout).toBe(`predict: blue 90, green 10 (stable blue), unchanged at revision ${before + 1}\n`);
});
