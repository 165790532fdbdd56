// The fleet route: every connected Envoy as the fleet status reports it. Read-only; the admin
// API never writes fleet status.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../../api/common.js';
import { proxiesSchema, type ProxyReport } from '../../api/fleet.js';

export interface FleetView {
  list(): ProxyReport[];
}

export const fleetRoutes: FastifyPluginAsyncTypebox<{ fleet: FleetView }> = async (app, { fleet }) => {
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
