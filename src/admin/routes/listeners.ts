// Routes for listeners (where Envoys expose services): list, read, put, delete. Each mutation is
// one store change with the caller's If-Match and actor; the answer is the listener at the new
// revision (`unchanged` when the change changed nothing); with `?dryRun=true`, what proxies would
// receive instead, nothing written. Writes only through the store.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nameParamsSchema, responses } from '../../api/common.js';
import { listenerAnswerSchema, listenerChangeSchema, listenersSchema } from '../../api/desired-state.js';
import { dryRunQuerySchema, orDryRun, type DryRunView } from '../../api/dry-run.js';
import { listenerBodySchema } from '../../model/schema.js';
import { getListener } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { answerDryRun, isDryRun } from '../dry-run.js';
import { applyOptions, withRevision } from '../revision-headers.js';

const tags = ['listeners'];
const params = nameParamsSchema;
const response = responses({ 200: listenerAnswerSchema });
const deletionResponse = responses({ 200: orDryRun(listenerAnswerSchema) });

export const listenerRoutes: FastifyPluginAsyncTypebox<{ store: Store; dryRun?: DryRunView }> = async (app, { store, dryRun }) => {
  app.get(
    '/v1/listeners',
    { schema: { tags, summary: 'Every listener, by name', response: responses({ 200: listenersSchema }) } },
    async (_request, reply) => {
      const state = store.current();
      const listeners = Object.values(state.listeners).sort((a, b) => a.name.localeCompare(b.name));
      return withRevision(reply, state.revision, { listeners });
    },
  );

  app.get(
    '/v1/listeners/:name',
    { schema: { tags, summary: 'One listener', params, response } },
    async (request, reply) => {
      const state = store.current();
      return withRevision(reply, state.revision, getListener(state, request.params.name));
    },
  );

  app.put(
    '/v1/listeners/:name',
    {
      schema: {
        tags,
        summary: 'Define or replace a listener',
        params,
        querystring: dryRunQuerySchema,
        body: listenerBodySchema,
        response: responses({ 200: orDryRun(listenerChangeSchema) }),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const change = { kind: 'putListener', name, body: request.body } as const;
      if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, change);
      const { revision, state, unchanged } = await store.apply(change, applyOptions(request));
      return withRevision(reply, revision, { ...getListener(state, name), ...(unchanged ? { unchanged: true as const } : {}) });
    },
  );

  app.delete(
    '/v1/listeners/:name',
    { schema: { tags, summary: 'Remove a listener no service uses; answers with what was removed', params, querystring: dryRunQuerySchema, response: deletionResponse } },
    async (request, reply) => {
      const { name } = request.params;
      const change = { kind: 'deleteListener', name } as const;
      if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, change);
      const { revision, previous } = await store.apply(change, applyOptions(request));
      return withRevision(reply, revision, getListener(previous, name));
    },
  );
};
