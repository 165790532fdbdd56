// `?dryRun=true` on the admin API's changes: the change previewed through the store (the same
// validation, check, If-Match and guardrails, so the same refusals) and answered with what proxies
// would receive differently, from the view AdminDeps gives. Never writes, audits or pushes; knows
// nothing of translation.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DryRunAnswer, DryRunQuery, DryRunView } from '../api/dry-run.js';
import type { StoreChange } from '../state/changes.js';
import type { Store } from '../state/store.js';
import { applyOptions, withRevision } from './revision-headers.js';

export function isDryRun(request: { query: DryRunQuery }): boolean {
  return request.query.dryRun === 'true';
}

/** Previews `change` and answers the dry run (200, the current revision); the route's answer schema does not apply. */
export async function answerDryRun(store: Store, view: DryRunView | undefined, request: FastifyRequest, reply: FastifyReply, change: StoreChange): Promise<DryRunAnswer> {
  const { state, previous, unchanged } = await store.preview(change, applyOptions(request));
  void reply.status(200).type('application/json').serializer(JSON.stringify);
  const changes = unchanged || view === undefined ? [] : view.changes(previous, state);
  return withRevision(reply, previous.revision, { dryRun: true as const, unchanged, changes });
}
