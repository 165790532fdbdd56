// `GET /v1/nodes/{id}/resources`: the exact resources a node would receive now — a dry run, for
// a connected node or one not yet connected. The query fills in or overrides what sluice knows
// of the node; a NodeResourcesView (implemented in sync) chooses its group and translates.

import type { FastifyPluginAsync } from 'fastify';
import { nodeResourcesSchema, responses } from '../api-schemas.js';

export type DiscoveryKind = 'ads' | 'ads-delta' | 'per-type' | 'per-type-delta';

export interface NodeQuery {
  id: string;
  cluster?: string;
  kind?: DiscoveryKind;
  envoyVersion?: string;
  userAgent?: string;
}

export interface NodeResourcesView {
  /** `{revision, node, group, versions, resources}` for the node as the query describes it. */
  resources(query: NodeQuery): object;
}

const params = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: "The node's id (node.id in its bootstrap)." } },
} as const;

const querystring = {
  type: 'object',
  properties: {
    cluster: { type: 'string', maxLength: 256, description: "The node's cluster (node.cluster), which selects listeners." },
    kind: {
      type: 'string',
      enum: ['ads', 'ads-delta', 'per-type', 'per-type-delta'],
      description: 'How the node reaches sluice: ADS or the per-type services, state of the world or delta (default ads).',
    },
    envoyVersion: {
      type: 'string',
      pattern: '^[0-9]{1,4}\\.[0-9]{1,4}(\\.[0-9]{1,4})?$',
      description: 'The Envoy version, e.g. "1.35.2" (older than 1.36: the cohort-cookie stand-in for key-based affinity).',
    },
    userAgent: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      description: 'node.user_agent_name: "envoy" (default), or e.g. "gRPC Go" for a proxyless gRPC client.',
    },
  },
} as const;

export const nodeRoutes: FastifyPluginAsync<{ nodeResources: NodeResourcesView }> = async (app, { nodeResources }) => {
  app.get<{ Params: { id: string }; Querystring: Omit<NodeQuery, 'id'> }>(
    '/v1/nodes/:id/resources',
    {
      schema: {
        tags: ['fleet'],
        summary: 'The exact resources a node would receive now (dry run; the node need not be connected)',
        params,
        querystring,
        response: responses({ 200: nodeResourcesSchema }),
      },
    },
    async (request) => nodeResources.resources({ ...request.query, id: request.params.id }),
  );
};
