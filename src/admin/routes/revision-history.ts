// The revision history: past revisions newest first (who, when, what, paged like the audit log),
// what one revision changed against the one before it (per listener, service and rollout), and
// restoring one — a new revision whose listeners and services equal revision n's, audited as
// such and subject to If-Match (none when they already are; the rollouts it ends are named; with
// `?dryRun=true`, what proxies would receive instead, nothing written). Reads and writes only
// through the store.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pagingQuerySchema, responses, revisionParamsSchema } from '../../api/common.js';
import { dryRunQuerySchema, orDryRun, type DryRunView } from '../../api/dry-run.js';
import { restoredSchema, revisionDiffSchema, revisionHistorySchema } from '../../api/history.js';
import { endedRollout } from '../../state/changes.js';
import { diffStates } from '../../state/revision-diff.js';
import type { Store } from '../../state/store.js';
import { answerDryRun, isDryRun } from '../dry-run.js';
import { refuseBody } from '../json-body.js';
import { pageOf } from '../paging.js';
import { applyOptions, withRevision } from '../revision-headers.js';
import { revisionParam } from '../whole-numbers.js';

const tags = ['revisions'];

const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);

export const revisionHistoryRoutes: FastifyPluginAsyncTypebox<{ store: Store; dryRun?: DryRunView }> = async (app, { store, dryRun }) => {
  app.get(
    '/v1/revisions',
    {
      schema: {
        tags,
        summary: 'Past revisions, newest first: revision, actor, time and summary',
        querystring: pagingQuerySchema,
        response: responses({ 200: revisionHistorySchema }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request.query);
      const revision = store.current().revision;
      const entries = await store.audit(page);
      const revisions = entries.map(({ revision: n, actor, at, summary }) => ({ revision: n, actor, at, summary }));
      return withRevision(reply, revision, { revisions });
    },
  );

  app.get(
    '/v1/revisions/:revision/diff',
    {
      schema: {
        tags,
        summary: 'What revision n changed compared with revision n−1: listeners, services and rollouts added, removed or changed (with the changed paths)',
        description:
          "Revision 1 is compared with the empty state. A revision whose state (or its predecessor's) the revision retention pruned is a 404 saying so.",
        params: revisionParamsSchema,
        response: responses({ 200: revisionDiffSchema }),
      },
    },
    async (request, reply) => {
      const of = revisionParam(request.params.revision);
      const revision = store.current().revision;
      const { before, after } = await store.statesAround(of);
      return withRevision(reply, revision, { of, changes: diffStates(before, after) });
    },
  );

  app.post(
    '/v1/revisions/:revision/restore',
    {
      schema: {
        tags,
        summary: "Restore a revision: a new revision with revision n's listeners and services",
        description: 'Takes no body (or an empty JSON object). A revision that no longer passes validation is refused.',
        params: revisionParamsSchema,
        querystring: dryRunQuerySchema,
        response: responses({ 200: orDryRun(restoredSchema) }),
      },
    },
    async (request, reply) => {
      const restored = revisionParam(request.params.revision);
      refuseBody(request.body, 'Restore');
      const change = { kind: 'restoreRevision', revision: restored } as const;
      if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, change);
      const { revision, state, previous, unchanged } = await store.apply(change, applyOptions(request));
      const aborted = Object.keys(previous.rollouts ?? {}).flatMap((name) => {
        const ended = endedRollout(previous, state, name);
        return ended === undefined ? [] : [[name, ended] as const];
      });
      return withRevision(reply, revision, {
        restored,
        ...(unchanged ? { unchanged: true as const } : {}),
        ...(aborted.length === 0 ? {} : { abortedRollouts: Object.fromEntries(aborted) }),
        listeners: Object.values(state.listeners).sort(byName),
        services: Object.values(state.services).sort(byName),
      });
    },
  );
};
