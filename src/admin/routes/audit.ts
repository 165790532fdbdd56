// The audit route: who changed what and when, newest first, paged with `limit` and `before`
// (a revision). Read-only; the store owns the log.

import type { FastifyPluginAsync } from 'fastify';
import { SluiceError } from '../../errors.js';
import type { Store } from '../../state/store.js';
import { withRevision } from '../revision-headers.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

function integerParam(query: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  const number = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max)) {
    throw new SluiceError('SLUICE_INVALID_PARAM', `${name} must be an integer from ${min} to ${max}.`, `/${name}`);
  }
  return number;
}

export const auditRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Querystring: Record<string, unknown> }>('/v1/audit', async (request, reply) => {
    const limit = integerParam(request.query, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    const before = integerParam(request.query, 'before', 1, Number.MAX_SAFE_INTEGER);
    const revision = store.current().revision;
    const entries = await store.audit(before === undefined ? { limit } : { limit, before });
    return withRevision(reply, revision, { entries });
  });
};
