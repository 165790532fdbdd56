// `GET /v1/services/{name}/traffic`: what each version of a service served over the recent window
// in equal intervals, by the proxies' load reports (read through a ServiceTrafficHistoryView). A
// read only; an unknown service is a 404 like every service route.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { nameParamsSchema, responses } from '../../api/common.js';
import { serviceTrafficSchema, type ServiceTrafficHistoryView } from '../../api/service-traffic.js';
import { getService } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { withRevision } from '../revision-headers.js';

export const serviceTrafficRoutes: FastifyPluginAsyncTypebox<{ store: Store; traffic: ServiceTrafficHistoryView }> = async (app, { store, traffic }) => {
  app.get(
    '/v1/services/:name/traffic',
    {
      schema: {
        tags: ['services'],
        summary: "Requests and errors per version over the last minutes, in equal intervals, from the proxies' load reports",
        params: nameParamsSchema,
        response: responses({ 200: serviceTrafficSchema }),
      },
    },
    async (request, reply) => {
      const state = store.current();
      const service = getService(state, request.params.name);
      const history = traffic.trafficHistory(service);
      return withRevision(reply, state.revision, { service: service.name, ...history, from: new Date(history.from).toISOString() });
    },
  );
};
