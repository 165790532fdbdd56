// A real browser (Debian's Chromium, driven by playwright-core) at the admin API of a real
// `sluice serve`: pages served by another local server — same-site (127.0.0.1, another port) and
// cross-site (localhost) — post text/plain JSON, an empty form and a rollout with a webhook to it,
// as a hostile page can without a preflight; sluice refuses each and the revision stays. A page of
// the admin API's own origin (/docs, whose Swagger UI renders under the CSP) changes state.
// Chromium missing is a failure, not a skip: scripts/install-chromium.sh installs it.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';

const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let sluice: SluiceProcess;
let browser: Browser;
let other: Server;
let otherPort: number;
/** Requests the other server received (a webhook call would land here). */
const otherRequests: string[] = [];

async function api(path: string, method = 'GET', body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${sluice.adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

async function revision(): Promise<number> {
  return (await api('/v1/services')).json.revision as number;
}

function refusals(): number {
  return sluice.logs().filter((line) => line.msg === 'admin change refused: sent by a page of another origin').length;
}

beforeAll(async () => {
  // Not a skip: the suite must run this test; setup.sh --tests installs Chromium.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium.sh (as root)`);
  dir = mkdtempSync(join(tmpdir(), 'sluice-browser-'));
  sluice = await startSluiceProcess({ args: ['--admin-port', '0', '--xds-port', '0', '--state', join(dir, 'state.db')], cwd: dir });
  expect((await api('/v1/services/predict', 'PUT', blueGreenService({ port: 5001 }, { port: 5002 }, { listener: 'default' }))).status).toBe(200);
  expect((await api('/v1/services/predict/weights', 'PUT', { blue: 50, green: 50 })).status).toBe(200);
  other = createServer((request, response) => {
    otherRequests.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title><p>another site</p>');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherPort = (other.address() as AddressInfo).port;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => other?.close(resolve));
  await sluice?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` in a page of `origin` (the other server's). */
async function pageAt(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  return page;
}

describe.each([
  ['same-site (another port of 127.0.0.1)', () => `http://127.0.0.1:${otherPort}`],
  ['cross-site (localhost)', () => `http://localhost:${otherPort}`],
])('a page of another origin, %s', (_label, origin) => {
  it('cannot promote with a text/plain fetch, restore or roll back with an empty form, or start a rollout with a webhook', async () => {
    const before = await revision();
    const refusedBefore = refusals();
    const page = await pageAt(origin());
    const admin = sluice.adminUrl;
    // What a hostile page can send without a preflight; the answers stay opaque to it.
    await page.evaluate(
      async ({ admin, hook }) => {
        // The browser itself fails each fetch (Cross-Origin-Resource-Policy), after sending it.
        const send = (path: string, init: RequestInit) => fetch(`${admin}${path}`, { method: 'POST', mode: 'no-cors', ...init }).catch(() => undefined);
        const plain = { 'content-type': 'text/plain' };
        await send('/v1/services/predict/promote', { headers: plain, body: JSON.stringify({ version: 'green' }) });
        await send('/v1/revisions/1/restore', { body: new URLSearchParams() });
        const rollout = { candidate: 'green', steps: [{ weight: 100 }], notify: [hook] };
        await send('/v1/services/predict/rollouts', { headers: plain, body: JSON.stringify(rollout) });
      },
      { admin, hook: `${origin()}/hook` },
    );
    // An auto-submitted form: the browser navigates to the admin API's answer.
    await page.setContent(`<form method="post" action="${admin}/v1/services/predict/rollback"></form>`);
    await Promise.all([page.waitForURL(`${admin}/v1/services/predict/rollback`), page.locator('form').evaluate((form) => (form as unknown as { submit(): void }).submit())]);
    expect(JSON.parse((await page.textContent('body')) ?? '')).toMatchObject({ error: { code: 'SLUICE_CROSS_ORIGIN' } });
    await page.close();

    // Every one reached sluice and was refused: nothing changed, nobody was called.
    expect(refusals() - refusedBefore).toBe(4);
    expect(await revision()).toBe(before);
    expect((await api('/v1/services/predict')).json).toMatchObject({ weights: { blue: 50, green: 50 }, stable: 'blue' });
    expect((await api('/v1/services/predict/rollout')).json).toMatchObject({ error: { code: 'SLUICE_ROLLOUT_NOT_FOUND' } });
    expect(otherRequests.filter((request) => request.startsWith('POST'))).toEqual([]);
  });
});

describe('a page of the admin API itself (/docs)', () => {
  it('renders Swagger UI under its Content-Security-Policy and changes state with fetch', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (error) => violations.push(error.message));
    await page.goto(`${sluice.adminUrl}/docs`);
    // Swagger UI fetched the document and drew the operations.
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(violations).toEqual([]);

    const before = await revision();
    const answer = await page.evaluate(async (admin) => {
      const response = await fetch(`${admin}/v1/services/predict/weights`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ blue: 80, green: 20 }),
      });
      return { status: response.status, body: await response.json() };
    }, sluice.adminUrl);
    expect(answer).toMatchObject({ status: 200, body: { revision: before + 1 } });
    expect((await api('/v1/services/predict')).json).toMatchObject({ weights: { blue: 80, green: 20 } });
    await page.close();
  });
});
