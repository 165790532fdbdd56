// The admin token check: with a token configured, calls that need it (access-rules.ts) must
// carry `Authorization: Bearer <token>`, compared in constant time; others are refused with 401
// before their body is read. Marks authenticated requests (the audit's default actor); never
// logs or echoes a presented token.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../errors.js';
import { needsToken, type AdminAuth } from './access-rules.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request carried the admin token. */
    authenticated: boolean;
  }
}

const BEARER_RE = /^bearer[ \t]+(\S+)[ \t]*$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Why the header does not carry the token, or undefined when it does. */
function refusal(header: string | undefined, expected: Buffer): string | undefined {
  if (header === undefined || header.trim() === '') {
    return 'This call needs the admin token: send the header "Authorization: Bearer <token>".';
  }
  const match = BEARER_RE.exec(header);
  if (match === null) return 'The Authorization header must be "Bearer <token>".';
  // Equal-length digests: the comparison takes the same time whatever was sent.
  if (!timingSafeEqual(digest(match[1]!), expected)) return 'The admin token is not valid.';
  return undefined;
}

export function requireToken(app: FastifyInstance, auth: AdminAuth | undefined): void {
  app.decorateRequest('authenticated', false);
  if (auth === undefined) return;
  const expected = digest(auth.token);
  // preParsing: after the rate limit (onRequest) has counted the call, before the body is read.
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!needsToken(auth, request.method, request.routeOptions.url)) return payload;
    const reason = refusal(request.headers.authorization, expected);
    if (reason !== undefined) {
      request.log.warn({ method: request.method, route: request.routeOptions.url ?? null, ip: request.ip }, 'admin call refused: no valid token');
      void reply.header('www-authenticate', 'Bearer realm="sluice"');
      throw new SluiceError('SLUICE_UNAUTHORIZED', reason);
    }
    request.authenticated = true;
    return payload;
  });
}
