// The console with `--admin-token` and `--admin-auth-reads` in a real browser against a real
// `sluice serve`: the page asks for the token before showing anything, refuses a wrong one, then
// follows sluice live (the event stream with the bearer header); the token never reaches a URL,
// a cookie or localStorage. The page and its files carry the console's CSP, the API keeps its own.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';
import { launchBrowser, openConsole, screenshot } from './browser-support.js';

const TOKEN = 'console-test-token-4f1c9a';
const WRONG = 'wrong-token-77d2e0';

let dir: string;
let sluice: SluiceProcess;
let browser: Browser;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json(), headers: response.headers };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-console-token-'));
  sluice = await startSluiceProcess({
    args: ['--admin-port', '0', '--xds-port', '0', '--state', join(dir, 'state.db'), '--admin-auth-reads'],
    env: { SLUICE_ADMIN_TOKEN: TOKEN },
    cwd: dir,
  });
  expect((await api('PUT', '/v1/services/predict', blueGreenService({ port: 5001 }, { port: 5002 }))).status).toBe(200);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await sluice?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the console with an admin token that reads need', () => {
  it('serves the page with its own CSP and leaves the API its policy', async () => {
    const page = await fetch(`${sluice.adminUrl}/`);
    expect(page.status).toBe(200);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    const script = await fetch(`${sluice.adminUrl}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    // The page carries no state: without a token it is served, the API is not.
    expect((await fetch(`${sluice.adminUrl}/v1/services`)).status).toBe(401);
    const answer = await api('GET', '/v1/services');
    expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  });

  it('asks for the token first, refuses a wrong one, then follows sluice live; the token stays out of URLs and cookies', async () => {
    const { page, requests, problems } = await openConsole(browser, `${sluice.adminUrl}/`, 420);
    const prompt = page.getByRole('heading', { name: 'Admin token' });
    await prompt.waitFor();
    expect(await page.locator('[data-service]').count()).toBe(0);
    await screenshot(page, 'token');

    await page.getByLabel('Token (kept for this tab only)').fill(WRONG);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('The admin token is not valid.').waitFor();
    expect(await page.locator('[data-service]').count()).toBe(0);

    await page.getByLabel('Token (kept for this tab only)').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    const card = page.locator('[data-service="predict"]');
    await card.waitFor();
    await page.locator('[data-testid="stream-state"]', { hasText: 'live' }).waitFor();

    // A change made elsewhere reaches the page through the event stream (it needs the bearer header).
    expect((await api('PUT', '/v1/services/predict/weights', { blue: 60, green: 40 })).status).toBe(200);
    await card.locator('li[data-version="green"] .percent', { hasText: '40%' }).waitFor();
    await screenshot(page, 'overview-narrow');

    for (const secret of [TOKEN, WRONG]) {
      expect(page.url()).not.toContain(secret);
      expect(requests.filter((url) => url.includes(secret))).toEqual([]);
    }
    expect(requests.some((url) => url.endsWith('/v1/events'))).toBe(true);
    expect(await page.context().cookies()).toEqual([]);
    // The page's own storage (the test's tsconfig has no DOM types: the globals are read by name).
    const stored = await page.evaluate(() => {
      const storage = globalThis as unknown as Record<'localStorage' | 'sessionStorage', { length: number; getItem(key: string): string | null }>;
      return [storage.localStorage.length, storage.sessionStorage.getItem('sluice.adminToken')];
    });
    expect(stored).toEqual([0, TOKEN]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
