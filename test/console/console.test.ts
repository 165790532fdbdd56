// The web console in a real browser against a real `sluice serve` and a real Envoy with the demo
// model servers: weights set from the page reach Envoy and split its traffic, Envoy's load reports
// show per version on the page, and the overview open in another tab follows without a reload; a rollout's approval and abort from the page;
// a listener Envoy cannot bind shown on the fleet page with Envoy's message; a revision's diff
// (old → new weights) and an old revision restored from History; every change audited as the console's; no CSP violation on any page.

import { createServer, type Server } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { sendRequests, withinBinomialTolerance } from '../e2e/traffic.js';
import { launchBrowser, openConsole, screenshot, type WatchedPage } from './browser-support.js';

let stack: ProcessStack;
let browser: Browser;
/** The overview, opened once and never reloaded. */
let overview: WatchedPage;

beforeAll(async () => {
  stack = await startProcessStack('console-envoy');
  browser = await launchBrowser();
  overview = await openConsole(browser, `${stack.sluice.adminUrl}/`);
  await overview.page.locator('[data-service="predict"]').waitFor();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function auditActor(revision: number): Promise<string> {
  const entries = (await stack.http('GET', '/v1/audit')).json.entries as { revision: number; actor: string }[];
  return entries.find((entry) => entry.revision === revision)?.actor ?? 'none';
}

/** The weight Envoy's route gives each predict cluster, from its config dump. */
async function envoyWeights(): Promise<Record<string, number>> {
  const dump = JSON.stringify(await stack.envoy.configDump('dynamic_route_configs'));
  return Object.fromEntries([...dump.matchAll(/"name":"predict_(\w+)","weight":(\d+)/g)].map((match) => [match[1]!, Number(match[2])]));
}

describe('the console against a real sluice and Envoy', () => {
  it('sets weights 90/10 with a preview: Envoy applies them, traffic splits, the open overview follows', async () => {
    const { page, problems } = await openConsole(browser, `${stack.sluice.adminUrl}/#/services/predict`);
    await page.getByLabel('blue %').fill('90');
    await page.getByLabel('green %').fill('10');
    await page.getByRole('button', { name: 'Preview change' }).click();
    const preview = page.getByRole('region', { name: 'Preview of the weights change' });
    await preview.waitFor();
    // The dry run names the route's weights as they would change.
    expect(await preview.textContent()).toMatch(/changed route/);
    await screenshot(page, 'weights-preview');
    await page.getByRole('button', { name: 'Apply weights' }).click();
    const applied = await page.getByRole('status').filter({ hasText: /Applied as revision \d+/ }).textContent();
    const revision = Number(/revision (\d+)/.exec(applied ?? '')![1]);

    expect(await auditActor(revision)).toBe('console');
    await stack.waitApplied(revision);
    expect(await envoyWeights()).toEqual({ blue: 9000, green: 1000 });
    const tally = await sendRequests(stack.predictUrl, 400, 16);
    expect(tally.failures).toEqual([]);
    expect(withinBinomialTolerance(tally.byVersion['green'] ?? 0, 400, 0.1), JSON.stringify(tally.byVersion)).toBe(true);

    // Envoy's load reports reach the service's traffic, and its chart on the page.
    const served = async (): Promise<Record<string, number>> => {
      const answer = (await stack.http('GET', '/v1/services/predict/traffic')).json as { versions: Record<string, { requests: number }[]> };
      return Object.fromEntries(Object.entries(answer.versions).map(([version, intervals]) => [version, intervals.reduce((sum, interval) => sum + interval.requests, 0)]));
    };
    await expect.poll(async () => Object.values(await served()).reduce((sum, requests) => sum + requests, 0), { timeout: 20_000 }).toBe(400);
    const reported = await served();
    expect(reported).toEqual(tally.byVersion);
    await page.locator('.traffic li[data-version="green"] [data-testid="traffic-requests"]', { hasText: String(reported['green']) }).waitFor({ timeout: 15_000 });
    await page.locator('.traffic li[data-version="blue"] [data-testid="traffic-requests"]', { hasText: String(reported['blue']) }).waitFor();

    // The other tab, never reloaded, shows the new weights and the proxy in sync.
    const card = overview.page.locator('[data-service="predict"]');
    await card.locator('li[data-version="green"] .percent', { hasText: '10%' }).waitFor();
    await card.locator('[data-testid="service-sync"]', { hasText: '1 of 1 proxy in sync' }).waitFor();
    await screenshot(overview.page, 'overview');
    await screenshot(page, 'service');

    // History shows the revision's diff against the one before it: the old and new weights.
    await page.goto(`${stack.sluice.adminUrl}/#/history`);
    const diffButton = page.getByRole('button', { name: `Diff of revision ${revision} against revision ${revision - 1}` });
    await diffButton.focus();
    await page.keyboard.press('Enter');
    expect(await diffButton.getAttribute('aria-expanded')).toBe('true');
    const diff = page.getByRole('region', { name: `Diff of revision ${revision} against revision ${revision - 1}` });
    const service = diff.locator('li[data-change="service/predict"]');
    await service.waitFor();
    expect(await service.textContent()).toMatch(/^changed service predict/);
    expect(await service.locator('li').allTextContents()).toEqual(['weights.blue: 100 → 90', 'weights.green: 0 → 10']);
    await screenshot(page, 'history-diff');
    expect(problems).toEqual([]);
    expect(overview.problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('explains a 412 when the state changed since the page read it', async () => {
    const { page } = await openConsole(browser, `${stack.sluice.adminUrl}/#/services/predict`);
    await page.getByLabel('blue %').fill('80');
    await page.getByLabel('green %').fill('20');
    await page.getByRole('button', { name: 'Preview change' }).click();
    await page.getByRole('button', { name: 'Apply weights' }).waitFor();
    // Someone else changes the service after the preview.
    const other = await stack.http('PUT', '/v1/services/predict/weights', { blue: 70, green: 30 });
    expect(other.status).toBe(200);
    await page.getByRole('button', { name: 'Apply weights' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'SLUICE_REVISION_MISMATCH' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Someone changed sluice since this page read it/);
    expect((await stack.http('GET', '/v1/services/predict')).json.weights).toEqual({ blue: 70, green: 30 });
    await page.close();
  });

  it('approves a rollout waiting at its approval step, then aborts the next one to 100% stable', async () => {
    const rollout = {
      candidate: 'green',
      steps: [{ weight: 20, hold: '1s' }, { approve: true }, { weight: 100, hold: '1s' }],
      analysis: { interval: '1s', metrics: [] },
    };
    expect((await stack.http('POST', '/v1/services/predict/rollouts', rollout)).status).toBe(201);
    const { page, problems } = await openConsole(browser, `${stack.sluice.adminUrl}/#/services/predict`);
    await page.locator('[data-testid="rollout-phase"]', { hasText: 'awaiting-approval' }).waitFor({ timeout: 30_000 });
    await overview.page.locator('[data-testid="rollout-state"]', { hasText: 'awaiting-approval' }).waitFor();
    await screenshot(page, 'rollout');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm approve' }).click();
    await page.locator('[data-testid="rollout-phase"]', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    const done = (await stack.http('GET', '/v1/services/predict/rollout')).json;
    expect(done.phase).toBe('succeeded');
    expect(done.timeline.find((decision: { event: string }) => decision.event === 'approved')?.actor).toBe('console');
    expect((await stack.http('GET', '/v1/services/predict')).json).toMatchObject({ stable: 'green', weights: { blue: 0, green: 100 } });

    // Back to blue, and a rollout to abort from the page.
    const rollback = { candidate: 'blue', steps: [{ weight: 30, hold: '1h' }], analysis: { interval: '1m', metrics: [] } };
    expect((await stack.http('POST', '/v1/services/predict/rollouts', rollback)).status).toBe(201);
    await page.locator('[data-testid="hold-countdown"]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Abort', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm abort' }).click();
    await page.locator('[data-testid="rollout-phase"]', { hasText: 'aborted' }).waitFor();
    const after = (await stack.http('GET', '/v1/services/predict')).json;
    expect(after.weights).toEqual({ blue: 0, green: 100 });
    await stack.waitApplied(after.revision);
    expect(await envoyWeights()).toEqual({ blue: 0, green: 10000 });
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it("shows a listener Envoy cannot bind on the fleet page with Envoy's message", async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as { port: number }).port;
      expect((await stack.http('PUT', '/v1/listeners/clash', { address: '127.0.0.1', port })).status).toBe(200);
      const { page, problems } = await openConsole(browser, `${stack.sluice.adminUrl}/#/fleet`);
      // Rejected, then held back for this Envoy (its last answer is an ACK again): shown with Envoy's message.
      const rejection = page.locator('[data-node="console-envoy"] [data-testid="held"]');
      await rejection.waitFor({ timeout: 20_000 });
      expect(await rejection.textContent()).toMatch(/listener clash/);
      expect(await rejection.locator('.envoy-message').textContent()).toMatch(/address already in use/i);
      await screenshot(page, 'fleet');
      expect((await stack.http('DELETE', '/v1/listeners/clash')).status).toBe(200);
      // The page follows: the rejection goes once Envoy no longer gets the listener.
      await rejection.waitFor({ state: 'detached', timeout: 20_000 });
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('restores an old revision from History, audited as the console', async () => {
    const first = (await stack.http('GET', '/v1/revisions?limit=1000')).json.revisions.at(-1);
    expect(first.summary).toMatch(/put service predict/);
    const { page, problems } = await openConsole(browser, `${stack.sluice.adminUrl}/#/history`);
    await page.locator(`tr[data-revision="${first.revision}"]`).getByRole('button', { name: String(first.revision), exact: true }).click();
    await page.getByRole('button', { name: `Preview restoring revision ${first.revision}` }).click();
    await page.locator('.diff').waitFor();
    await screenshot(page, 'history');
    await page.getByRole('button', { name: `Restore revision ${first.revision}`, exact: true }).click();
    await page.getByRole('button', { name: `Confirm restore revision ${first.revision}` }).click();
    const restored = await page.getByRole('status').filter({ hasText: /Restored as revision \d+/ }).textContent();
    const revision = Number(/revision (\d+)\./.exec(restored ?? '')![1]);
    expect((await stack.http('GET', '/v1/services/predict')).json).toMatchObject({ revision, stable: 'blue', weights: { blue: 100, green: 0 } });
    expect(await auditActor(revision)).toBe('console');
    // The new revision shows in the (live) history with the console as its actor.
    await page.locator(`tr[data-revision="${revision}"] [data-testid="actor"]`, { hasText: 'console' }).waitFor();
    await page.goto(`${stack.sluice.adminUrl}/#/audit`);
    await page.locator(`tr[data-revision="${revision}"]`).waitFor();
    await screenshot(page, 'audit');
    expect(problems).toEqual([]);
    await page.close();
  });
});
