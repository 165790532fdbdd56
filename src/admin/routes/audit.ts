// The audit route: who changed what and when, newest first, paged with `limit` and `before`
// (a revision). Read-only; the store owns the log.

import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../state/store.js';
import { auditSchema, responses } from '../api-schemas.js';
import { pageOf, pagingQuerySchema, type PagingQuery } from '../paging.js';
import { withRevision } from '../revision-headers.js';

export const auditRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Querystring: PagingQuery }>(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Who changed what and when, newest first',
        querystring: pagingQuerySchema,
        response: responses({ 200: auditSchema }),
      },
    },
    async (request, reply) => {
      const page = pageOf(request.query);
      const revision = store.current().revision;
      const entries = await store.audit(page);
      return withRevision(reply, revision, { entries });
    },
  );
};
