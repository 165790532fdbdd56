// The delete guard end to end through real processes: `sluice serve` (bin/sluice.js), a real Envoy
// reporting load over LRS, two model servers, requests through Envoy, and the CLI run as its own
// process — `sluice delete` refused (exit 1) naming the traffic, `--force` deleting, and Envoy then
// answering 404. Every wait is for a state, bounded; nothing sleeps.

import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { predictOnce, sendRequests } from '../e2e/traffic.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { runSluice } from '../support/sluice-process.js';

let stack: ProcessStack;

/** Requests per version of predict that Envoys reported to sluice, from its /metrics. */
async function reportedRequests(): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.sluice.adminUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^sluice_version_requests_total\{service="predict",version="(\w+)"\} (\d+)$/gm)) {
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

beforeAll(async () => {
  stack = await startProcessStack('delete-guard-envoy');
});

afterAll(async () => {
  await stack?.stop();
});

it('sluice delete is refused (exit 1) while Envoy serves the service, names the traffic; --force deletes it and Envoy answers 404', async () => {
  // Traffic to both versions (green pinned) until Envoy's load reports have reached sluice for each.
  await vi.waitFor(
    async () => {
      expect((await sendRequests(stack.predictUrl, 8, 4)).byVersion).toEqual({ blue: 8 });
      expect((await sendRequests(stack.predictUrl, 2, 2, { 'x-sluice-version': 'green' })).byVersion).toEqual({ green: 2 });
      const reported = await reportedRequests();
      expect(reported['blue']).toBeGreaterThan(0);
      expect(reported['green']).toBeGreaterThan(0);
    },
    { timeout: 30_000, interval: 500 },
  );
  const revision = (await stack.http('GET', '/v1/services/predict')).json.revision;

  const refused = await runSluice(['delete', 'predict', '--server', stack.sluice.adminUrl]);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(
    /^sluice: SLUICE_DELETE_UNCONFIRMED: Service "predict" served [\d,]+ requests in the last 5 minutes \(blue [\d,]+, green [\d,]+\) on 1 proxy; deleting it makes those requests fail \(404\)\. .* With sluice: repeat with --force\.\n$/,
  );
  // Nothing changed: same revision, and Envoy still serves it.
  expect((await stack.http('GET', '/v1/services/predict')).json.revision).toBe(revision);
  expect(await predictOnce(stack.predictUrl)).toMatchObject({ status: 200, served: 'blue' });

  const forced = await runSluice(['delete', 'predict', '--force', '--server', stack.sluice.adminUrl]);
  expect(forced.stderr).toBe('');
  expect(forced.code).toBe(0);
  expect(forced.stdout).toMatch(
    new RegExp(`^predict: it served [\\d,]+ requests in the last 5 minutes \\(blue [\\d,]+, green [\\d,]+\\) on 1 proxy; those requests now get 404\\npredict: deleted, revision ${revision + 1}\\n$`),
  );
  expect((await stack.http('GET', '/v1/services/predict')).status).toBe(404);

  // With its last EDS cluster gone Envoy asks for no endpoints any more; it still counts as having
  // applied the revision (it holds exactly the endpoints it asks for: none).
  await stack.waitApplied(revision + 1);
  expect((await predictOnce(stack.predictUrl)).status).toBe(404);
  expect((await predictOnce(stack.predictUrl, { 'x-sluice-version': 'green' })).status).toBe(404);
});
