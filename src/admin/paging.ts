// Paging of newest-first lists keyed by revision (the audit log, the revision history):
// `?limit=` (1–1000, default 50) and `?before=<revision>`. Parameters only; the store pages.

import type { AuditQuery } from '../state/state-adapter.js';
import { wholeNumber, wholeNumberSchema } from './whole-numbers.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

export interface PagingQuery {
  limit?: string;
  before?: string;
}

export const pagingQuerySchema = {
  type: 'object',
  properties: {
    limit: wholeNumberSchema(`How many entries, from 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`),
    before: wholeNumberSchema('Only entries of revisions lower than this one.'),
  },
} as const;

export function pageOf(query: PagingQuery): AuditQuery {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : wholeNumber(query.limit, 'limit', 1, MAX_LIMIT);
  return query.before === undefined ? { limit } : { limit, before: wholeNumber(query.before, 'before', 1, Number.MAX_SAFE_INTEGER) };
}
