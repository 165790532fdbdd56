// `GET /metrics`: every metric in the Prometheus text format, as the AdminMetrics render them.
// Read-only; the admin API neither defines nor computes metrics.

import type { FastifyPluginAsync } from 'fastify';
import { responses } from '../../api/common.js';

export interface AdminMetrics {
  readonly contentType: string;
  /** Every metric in the Prometheus text format. */
  render(): Promise<string>;
  /** Counts one answered request by its route pattern (e.g. /v1/services/:name), method and status. */
  requestAnswered(route: string, method: string, status: number): void;
}

export const metricsRoutes: FastifyPluginAsync<{ metrics: AdminMetrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics (text format)',
        response: responses({
          200: { description: 'Every metric', content: { 'text/plain': { schema: { type: 'string' } } } },
        }),
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );
};
