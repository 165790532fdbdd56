// Paging of newest-first lists keyed by revision (the audit log, the revision history):
// `?limit=` (1–1000, default 50) and `?before=<revision>` (their schema: api/common.ts).
// Parameters only; the store pages.

import type { AuditQuery } from '../state/state-adapter.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type PagingQuery } from '../api/common.js';
import { wholeNumber } from './whole-numbers.js';

export function pageOf(query: PagingQuery): AuditQuery {
  const limit = query.limit === undefined ? DEFAULT_PAGE_LIMIT : wholeNumber(query.limit, 'limit', 1, MAX_PAGE_LIMIT);
  return query.before === undefined ? { limit } : { limit, before: wholeNumber(query.before, 'before', 1, Number.MAX_SAFE_INTEGER) };
}
