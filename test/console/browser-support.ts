// What the console's browser tests share: Debian's Chromium driven by playwright-core (missing is
// a failure, not a skip: scripts/install-chromium.sh installs it), a page that records every
// request URL and every CSP violation or script error, and screenshots saved as test artifacts
// (test-artifacts/console/, git-ignored).

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts', 'console');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium.sh (as root)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export interface WatchedPage {
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  /** Content-Security-Policy violations and uncaught script errors. */
  problems: string[];
}

export async function openConsole(browser: Browser, url: string, width = 1200): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  // A wait that cannot be met fails on its own locator, well inside the test's budget, not as the test's timeout.
  page.setDefaultTimeout(15_000);
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(url);
  return { page, requests, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
}
