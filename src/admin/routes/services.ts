// Routes for services: read, put, delete, and the traffic actions (weights, promote, rollback).
// Each mutation is one store change with the caller's If-Match and actor; the answer is the
// service at the new revision. Writes only through the store.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { SluiceError } from '../../errors.js';
import {
  nameParamsSchema,
  promoteBodySchema,
  serviceBodySchema,
  weightsBodySchema,
  type PromoteBody,
  type ServiceBody,
} from '../../model/schema.js';
import type { Weights } from '../../model/types.js';
import { getService, type Change } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { applyOptions, withRevision } from '../revision-headers.js';

interface NameParams {
  name: string;
}

export const serviceRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  const params = nameParamsSchema;

  app.get('/v1/services', async (_request, reply) => {
    const state = store.current();
    const services = Object.values(state.services).sort((a, b) => a.name.localeCompare(b.name));
    return withRevision(reply, state.revision, { services });
  });

  app.get<{ Params: NameParams }>('/v1/services/:name', { schema: { params } }, async (request, reply) => {
    const state = store.current();
    return withRevision(reply, state.revision, getService(state, request.params.name));
  });

  /** Applies a change to one service and answers with that service at the new revision. */
  async function change(request: FastifyRequest, reply: FastifyReply, serviceChange: Change) {
    const { revision, state } = await store.apply(serviceChange, applyOptions(request));
    return withRevision(reply, revision, getService(state, serviceChange.name));
  }

  app.put<{ Params: NameParams; Body: ServiceBody }>(
    '/v1/services/:name',
    { schema: { params, body: serviceBodySchema } },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'putService', name, body: request.body });
    },
  );

  app.delete<{ Params: NameParams }>('/v1/services/:name', { schema: { params } }, async (request, reply) => {
    const { name } = request.params;
    const { revision, previous } = await store.apply({ kind: 'deleteService', name }, applyOptions(request));
    return withRevision(reply, revision, getService(previous, name));
  });

  app.put<{ Params: NameParams; Body: Weights }>(
    '/v1/services/:name/weights',
    { schema: { params, body: weightsBodySchema } },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'setWeights', name, weights: request.body });
    },
  );

  app.post<{ Params: NameParams; Body: PromoteBody }>(
    '/v1/services/:name/promote',
    { schema: { params, body: promoteBodySchema } },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'promote', name, version: request.body.version });
    },
  );

  app.post<{ Params: NameParams; Body: unknown }>(
    '/v1/services/:name/rollback',
    { schema: { params } },
    async (request, reply) => {
      const { body } = request;
      const empty = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
      if (body !== undefined && !empty) {
        throw new SluiceError('SLUICE_INVALID_BODY', 'Rollback takes no body, or an empty JSON object.', '');
      }
      const { name } = request.params;
      return change(request, reply, { kind: 'rollback', name });
    },
  );
};
