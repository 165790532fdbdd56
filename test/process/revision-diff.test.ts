// A revision's diff through the real process: `sluice serve` (bin/sluice.js) with a state file,
// --revision-retention 1 and reads behind the admin token, asked over HTTP from outside — the
// weights a revision changed with old and new values, a 404 saying the state was pruned, and the
// token required as for every read.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';

const TOKEN = 'diff-t0ken-diff-t0ken';
let dir: string;
let sluice: SluiceProcess;

async function http(path: string, method = 'GET', body?: unknown, token: string | null = TOKEN): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(`${sluice.adminUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-revision-diff-'));
  sluice = await startSluiceProcess({
    args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--state', join(dir, 'state.db'), '--revision-retention', '1', '--admin-auth-reads'],
    env: { SLUICE_ADMIN_TOKEN: TOKEN },
  });
});

afterAll(async () => {
  await sluice?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

it("answers a revision's diff against the one before it, a 404 for a pruned one, and only with the token when reads need it", async () => {
  const service = blueGreenService({ port: 5001 }, { port: 5002 });
  expect((await http('/v1/services/predict', 'PUT', service)).status).toBe(200); // 1
  expect((await http('/v1/services/predict/weights', 'PUT', { blue: 90, green: 10 })).status).toBe(200); // 2
  expect((await http('/v1/services/predict/weights', 'PUT', { blue: 60, green: 40 })).status).toBe(200); // 3

  const diff = await http('/v1/revisions/3/diff');
  expect(diff.status).toBe(200);
  expect(diff.json).toEqual({
    revision: 3,
    of: 3,
    changes: [
      {
        kind: 'service',
        name: 'predict',
        change: 'changed',
        paths: [
          { path: '/weights/blue', label: 'weights.blue', old: 90, new: 60 },
          { path: '/weights/green', label: 'weights.green', old: 10, new: 40 },
        ],
      },
    ],
  });

  // Retention 1 keeps revision 2 (the one past revision) and prunes revision 1.
  const pruned = await http('/v1/revisions/2/diff');
  expect(pruned.status).toBe(404);
  expect(pruned.json.error.code).toBe('SLUICE_REVISION_NOT_FOUND');
  expect(pruned.json.error.message).toMatch(/^Revision 2 is compared with revision 1, whose state was pruned by the revision retention/);

  const beyond = await http('/v1/revisions/4/diff');
  expect(beyond.status).toBe(404);
  expect(beyond.json.error.code).toBe('SLUICE_REVISION_NOT_FOUND');

  const anonymous = await http('/v1/revisions/3/diff', 'GET', undefined, null);
  expect(anonymous.status).toBe(401);
});
