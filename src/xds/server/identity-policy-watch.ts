// The identity policy as the xDS server reads it while it runs: read and checked whole at start-up,
// then re-read on a timer like the TLS files; a changed valid file judges the streams that start
// after it, a changed invalid one keeps the last good policy and is logged once per content.
// Judges nothing itself (identity-policy.ts does) and never touches a stream.

import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { IdentityPolicyError, parseIdentityPolicy, readIdentityPolicy, type IdentityPolicy } from './identity-policy.js';

export const DEFAULT_POLICY_RELOAD_INTERVAL_MS = 1000;

export interface WatchedIdentityPolicy {
  /** The last good policy: the one new streams are judged by. */
  current(): IdentityPolicy;
  /** Stops watching the file. */
  close(): void;
}

/** Reads and checks `path` now (an IdentityPolicyError when it cannot be used), then re-reads it every `intervalMs`. */
export function watchIdentityPolicy(path: string, logger: Logger, intervalMs = DEFAULT_POLICY_RELOAD_INTERVAL_MS): WatchedIdentityPolicy {
  let policy = readIdentityPolicy(path);
  let lastText: string | undefined;
  let reading = false;
  const reload = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const problem = `cannot read it: ${(error as Error).message}`;
      if (lastText !== problem) logger.error({ path }, `the xDS identity policy ${problem}; new streams are still judged by the last good policy`);
      lastText = problem;
      return;
    }
    if (text === lastText) return;
    lastText = text;
    let next: IdentityPolicy;
    try {
      next = parseIdentityPolicy(text, path);
    } catch (error) {
      const problem = error instanceof IdentityPolicyError ? error.message : String(error);
      logger.error({ path }, `the xDS identity policy changed but cannot be used: ${problem}; new streams are still judged by the last good policy`);
      return;
    }
    if (JSON.stringify(next) === JSON.stringify(policy)) return;
    policy = next;
    logger.info({ path, rules: next.rules.length }, 'xDS identity policy reloaded: new streams are judged by it');
  };
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    reload().finally(() => (reading = false));
  }, intervalMs);
  timer.unref();
  return { current: () => policy, close: () => clearInterval(timer) };
}
