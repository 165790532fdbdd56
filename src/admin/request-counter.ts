// Counts every answered admin request by route pattern, method and status. The label is the
// pattern a route was registered with (or "unmatched"), never the raw URL, so that names and
// query strings cannot grow the number of series. Counting only; it changes no reply.

import type { FastifyInstance } from 'fastify';
import type { AdminMetrics } from './routes/metrics.js';

export const UNMATCHED_ROUTE = 'unmatched';

export function countRequests(app: FastifyInstance, metrics: AdminMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.requestAnswered(request.routeOptions.url ?? UNMATCHED_ROUTE, request.method, reply.statusCode);
  });
}
