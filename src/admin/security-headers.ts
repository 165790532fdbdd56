// The headers every admin answer carries so that browsers neither sniff, frame, leak the URL
// of, nor let other sites embed what it serves. The API's answers allow no content at all; the
// browsable docs (/docs, Swagger UI: scripts and styles from its own origin) and the web console
// (`/` and its bundle under /console/) get the policies they need.
// Sets headers only; decides nothing about who may call.

import type { FastifyInstance } from 'fastify';
import { DOCS_PREFIX, isConsoleFile } from './access-rules.js';

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** JSON, the event stream, metrics: nothing in them is to be run or shown as a page. */
const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Swagger UI: its scripts and style sheets come from /docs/static, it fetches the document from
 * /docs/json and "Try it out" calls the API on the same origin; React sets inline styles and the
 * icons are data: images. No other origin is reached (the validator badge is off).
 */
export const DOCS_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The web console: its one script and style sheet from its own origin, no inline script or
 * style, and requests (the API, the event stream) to its own origin only; its charts are inline
 * SVG elements, not images.
 */
export const CONSOLE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function policyFor(url: string): string {
  if (isDocs(url)) return DOCS_POLICY;
  return isConsoleFile(url) ? CONSOLE_POLICY : API_POLICY;
}

function isDocs(url: string): boolean {
  return url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`) || url.startsWith(`${DOCS_PREFIX}?`);
}

export function addSecurityHeaders(app: FastifyInstance): void {
  // On the raw response, first of all hooks: answers that hijack the reply (the event stream)
  // and refusals from later hooks carry them too.
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) reply.raw.setHeader(name, value);
    reply.raw.setHeader('content-security-policy', policyFor(request.url));
  });
}
