// `GET /v1/nodes/{id}/resources`: the exact resources a node would receive now — a dry run, for
// a connected node or one not yet connected. The query fills in or overrides what sluice knows
// of the node; a NodeResourcesView (implemented in sync) chooses its group and translates.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses } from '../../api/common.js';
import { nodeParamsSchema, nodeQuerySchema, nodeResourcesSchema, type NodeQuery, type NodeResources } from '../../api/fleet.js';

export interface NodeResourcesView {
  /** The resources a node as the query describes it would receive now. */
  resources(query: NodeQuery): NodeResources;
}

export const nodeRoutes: FastifyPluginAsyncTypebox<{ nodeResources: NodeResourcesView }> = async (app, { nodeResources }) => {
  app.get(
    '/v1/nodes/:id/resources',
    {
      schema: {
        tags: ['fleet'],
        summary: 'The exact resources a node would receive now (dry run; the node need not be connected)',
        params: nodeParamsSchema,
        querystring: nodeQuerySchema,
        response: responses({ 200: nodeResourcesSchema }),
      },
    },
    async (request) => nodeResources.resources({ ...request.query, id: request.params.id }),
  );
};
