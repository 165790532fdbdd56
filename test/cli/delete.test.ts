// `sluice delete SERVICE [--force]` against sluice running in this process, whose LoadStats is fed
// load reports directly (as the LRS stream would): deleted when nothing needs confirming, refused
// with the server's message and "repeat with --force" (exit 1) while proxies served it recently or
// it has an active rollout, and --force saying what it aborted and cut off.

import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { predictService, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;

beforeEach(async () => {
  h = await startCliHarness();
  expect((await h.run('apply', '-f', await h.file('predict.json', JSON.stringify(predictService())))).code).toBe(0);
});

afterEach(async () => {
  await h.stop();
});

function reportTraffic(): void {
  h.sluice.loadStats.report([
    { nodeId: 'edge-1', cluster: 'predict_blue', successful: 1200, errors: 0, issued: 1200, intervalMs: 2000 },
    { nodeId: 'edge-2', cluster: 'predict_green', successful: 30, errors: 4, issued: 34, intervalMs: 2000 },
  ]);
}

it('deletes a service nobody served lately, saying the revision', async () => {
  expect(await h.run('delete', 'predict')).toEqual({ code: 0, stdout: 'predict: deleted, revision 2\n', stderr: '' });
  expect(h.sluice.store.current().services['predict']).toBeUndefined();
});

it('refuses a service proxies served (exit 1, the server message and --force); --force deletes it and says what it cut off', async () => {
  reportTraffic();
  expect(await h.run('delete', 'predict')).toEqual({
    code: 1,
    stdout: '',
    stderr:
      'sluice: SLUICE_DELETE_UNCONFIRMED: Service "predict" served 1,234 requests in the last 5 minutes (blue 1,200, green 34) on 2 proxies; ' +
      'deleting it makes those requests fail (404). Repeat with DELETE /v1/services/predict?force=true to delete it anyway. With sluice: repeat with --force.\n',
  });
  expect(h.sluice.store.current().services['predict']).toBeDefined();

  expect(await h.run('delete', 'predict', '--force')).toEqual({
    code: 0,
    stdout:
      'predict: it served 1,234 requests in the last 5 minutes (blue 1,200, green 34) on 2 proxies; those requests now get 404\n' +
      'predict: deleted, revision 2\n',
    stderr: '',
  });
  expect(h.sluice.store.current().services['predict']).toBeUndefined();
});

it('refuses a service with an active rollout; --force says it aborted the rollout; --json prints the answer', async () => {
  const started = await fetch(`${h.sluice.adminUrl}/v1/services/predict/rollouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ candidate: 'green', steps: [{ approve: true }], analysis: { interval: '30s', metrics: [] } }),
  });
  expect(started.status).toBe(201);
  await vi.waitFor(() => expect(h.sluice.store.current().rollouts?.['predict']?.phase).toBe('awaiting-approval'));
  const revision = h.sluice.store.current().revision;

  const refused = await h.run('delete', 'predict');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^sluice: SLUICE_DELETE_UNCONFIRMED: Service "predict" has an active rollout of "green".* With sluice: repeat with --force\.\n$/);

  const forced = await h.run('delete', 'predict', '--force', '--json');
  expect(forced.code).toBe(0);
  expect(JSON.parse(forced.stdout)).toMatchObject({ revision: revision + 1, name: 'predict', abortedRollout: { candidate: 'green', phase: 'awaiting-approval' } });
  expect(h.sluice.store.current().rollouts!['predict']!.phase).toBe('aborted');
});

it('says what is wrong with the command line (exit 2) or with the service (exit 1)', async () => {
  const none = await h.run('delete');
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/^sluice: delete needs exactly one service\n\nusage: sluice delete SERVICE .*\[--if-match REV\] \[--force\]\n/);
  expect((await h.run('delete', 'predict', 'search')).code).toBe(2);
  expect(await h.run('delete', 'search')).toEqual({ code: 1, stdout: '', stderr: 'sluice: SLUICE_SERVICE_NOT_FOUND: No service is named "search".\n' });
  const stale = await h.run('delete', 'predict', '--if-match', '7');
  expect(stale.code).toBe(1);
  expect(stale.stderr).toMatch(/^sluice: SLUICE_REVISION_MISMATCH/);
  expect(h.sluice.store.current().services['predict']).toBeDefined();
});
