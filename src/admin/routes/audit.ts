// The audit route: who changed what and when, newest first, paged with `limit` and `before`
// (a revision). Read-only; the store owns the log.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pagingQuerySchema, responses } from '../../api/common.js';
import { auditSchema } from '../../api/history.js';
import type { Store } from '../../state/store.js';
import { pageOf } from '../paging.js';
import { withRevision } from '../revision-headers.js';

export const auditRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
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
