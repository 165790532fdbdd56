// The fleet route: every connected Envoy as the fleet status reports it. Read-only; the admin
// API never writes fleet status.

import type { FastifyPluginAsync } from 'fastify';

export interface FleetView {
  list(): unknown[];
}

export const fleetRoutes: FastifyPluginAsync<{ fleet: FleetView }> = async (app, { fleet }) => {
  app.get('/v1/proxies', async () => ({ proxies: fleet.list() }));
};
