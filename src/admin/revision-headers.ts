// The HTTP side of revisions: reading `If-Match` and `X-Sluice-Actor` (by default "token" for a
// call that carried the admin token, else "admin") into store apply options, and stamping
// `ETag: "<revision>"` on answers. Header handling only; the store decides what a
// revision means.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../errors.js';
import type { ApplyOptions } from '../state/store.js';

const DEFAULT_ACTOR = 'admin';
/** The actor of a call that carried the admin token and named no one. */
const TOKEN_ACTOR = 'token';
const MAX_ACTOR_LENGTH = 128;
const IF_MATCH_RE = /^(?:"(\d{1,15})"|(\d{1,15}))$/;

function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) {
    throw new SluiceError('SLUICE_INVALID_HEADER', `Give the ${name} header once.`);
  }
  return value;
}

function ifRevision(request: FastifyRequest): number | undefined {
  const value = singleHeader(request, 'if-match')?.trim();
  if (value === undefined) return undefined;
  const match = IF_MATCH_RE.exec(value);
  if (match === null) {
    throw new SluiceError('SLUICE_INVALID_HEADER', `If-Match must be a revision number such as "12", not ${JSON.stringify(value)}.`);
  }
  return Number(match[1] ?? match[2]);
}

function actor(request: FastifyRequest): string {
  const value = singleHeader(request, 'x-sluice-actor')?.trim();
  if (value === undefined || value === '') return request.authenticated ? TOKEN_ACTOR : DEFAULT_ACTOR;
  if (value.length > MAX_ACTOR_LENGTH) {
    throw new SluiceError('SLUICE_INVALID_HEADER', `X-Sluice-Actor must be at most ${MAX_ACTOR_LENGTH} characters.`);
  }
  return value;
}

/** Apply options for a mutation: who asks, and the revision it must apply to, if any. */
export function applyOptions(request: FastifyRequest): ApplyOptions {
  const revision = ifRevision(request);
  return revision === undefined ? { actor: actor(request) } : { actor: actor(request), ifRevision: revision };
}

/** Sets the ETag and returns `{revision, ...resource}`. */
export function withRevision<T extends object>(reply: FastifyReply, revision: number, resource: T): { revision: number } & T {
  void reply.header('etag', `"${revision}"`);
  return { revision, ...resource };
}
