// Refuses changes sent by web pages of other origins (cross-site request forgery): a page can
// post a text/plain or form body without a preflight, and the admin API reads every body as JSON.
// A change passes when the browser says it comes from the admin API's own origin, or when no
// browser header is there (curl, the CLI). Reads pass: a browser keeps their answers from the page.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SluiceError } from '../errors.js';

/** Methods that never change state (OPTIONS: no route answers it with CORS headers). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Fetch metadata values of requests another site's page started. */
const FOREIGN_FETCH_SITES: ReadonlySet<string> = new Set(['cross-site', 'same-site']);

/** Whether the guard judges requests of this method (changes) by their origin. */
export function checksOrigin(method: string): boolean {
  return !SAFE_METHODS.has(method);
}

function serializedOrigin(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/** Why the request looks like a change from another origin's page, or undefined when it does not. */
export function foreignOrigin(request: FastifyRequest): string | undefined {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && FOREIGN_FETCH_SITES.has(site.trim().toLowerCase())) return `Sec-Fetch-Site is ${site.trim()}`;
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  // request.host is the Host header, which the host guard has checked when it runs.
  const own = serializedOrigin(`${request.protocol}://${request.host}`);
  const sent = serializedOrigin(origin);
  if (sent === undefined || own === undefined || sent !== own) return 'Origin names another origin';
  return undefined;
}

export function refuseForeignChanges(app: FastifyInstance): void {
  // onRequest: before the rate limit counts, the token is checked or a body is read.
  app.addHook('onRequest', async (request) => {
    if (!checksOrigin(request.method)) return;
    const reason = foreignOrigin(request);
    if (reason === undefined) return;
    request.log.warn({ method: request.method, reason }, 'admin change refused: sent by a page of another origin');
    throw new SluiceError(
      'SLUICE_CROSS_ORIGIN',
      `A change from a page of another site is refused (${reason}). Send changes from the sluice CLI, curl, or a page of the admin API's own origin.`,
    );
  });
}
