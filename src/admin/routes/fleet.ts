// The fleet route: every connected Envoy as the fleet status reports it. Read-only; the admin
// API never writes fleet status.

import type { FastifyPluginAsync } from 'fastify';
import { proxiesSchema, responses } from '../api-schemas.js';

export interface FleetView {
  list(): unknown[];
}

export const fleetRoutes: FastifyPluginAsync<{ fleet: FleetView }> = async (app, { fleet }) => {
  app.get(
    '/v1/proxies',
    {
      schema: {
        tags: ['fleet'],
        summary: 'Connected proxies: node, versions, per type the ACKed version and last NACK, applied revision',
        response: responses({ 200: proxiesSchema }),
      },
    },
    async () => ({ proxies: fleet.list() }),
  );
};
