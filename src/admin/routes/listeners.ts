// Routes for listeners (where Envoys expose services): list, read, put, delete. Each mutation is
// one store change with the caller's If-Match and actor; the answer is the listener at the new
// revision. Writes only through the store.

import type { FastifyPluginAsync } from 'fastify';
import { listenerBodySchema, nameParamsSchema, type ListenerBody } from '../../model/schema.js';
import { getListener } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { applyOptions, withRevision } from '../revision-headers.js';

interface NameParams {
  name: string;
}

export const listenerRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  const params = nameParamsSchema;

  app.get('/v1/listeners', async (_request, reply) => {
    const state = store.current();
    const listeners = Object.values(state.listeners).sort((a, b) => a.name.localeCompare(b.name));
    return withRevision(reply, state.revision, { listeners });
  });

  app.get<{ Params: NameParams }>('/v1/listeners/:name', { schema: { params } }, async (request, reply) => {
    const state = store.current();
    return withRevision(reply, state.revision, getListener(state, request.params.name));
  });

  app.put<{ Params: NameParams; Body: ListenerBody }>(
    '/v1/listeners/:name',
    { schema: { params, body: listenerBodySchema } },
    async (request, reply) => {
      const { name } = request.params;
      const { revision, state } = await store.apply({ kind: 'putListener', name, body: request.body }, applyOptions(request));
      return withRevision(reply, revision, getListener(state, name));
    },
  );

  app.delete<{ Params: NameParams }>('/v1/listeners/:name', { schema: { params } }, async (request, reply) => {
    const { name } = request.params;
    const { revision, previous } = await store.apply({ kind: 'deleteListener', name }, applyOptions(request));
    return withRevision(reply, revision, getListener(previous, name));
  });
};
