// Routes for services: read, put, delete, and the traffic actions (weights, promote, rollback).
// Each mutation is one store change with the caller's If-Match and actor; the answer is the
// service at the new revision. Writes only through the store.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
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
import { responses, revisioned, serviceSchema, servicesSchema } from '../api-schemas.js';
import { refuseBody } from '../json-body.js';
import { applyOptions, withRevision } from '../revision-headers.js';

interface NameParams {
  name: string;
}

const tags = ['services'];
const params = nameParamsSchema;
const response = responses({ 200: revisioned(serviceSchema) });

export const serviceRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/v1/services',
    { schema: { tags, summary: 'Every service, by name', response: responses({ 200: servicesSchema }) } },
    async (_request, reply) => {
      const state = store.current();
      const services = Object.values(state.services).sort((a, b) => a.name.localeCompare(b.name));
      return withRevision(reply, state.revision, { services });
    },
  );

  app.get<{ Params: NameParams }>(
    '/v1/services/:name',
    { schema: { tags, summary: 'One service', params, response } },
    async (request, reply) => {
      const state = store.current();
      return withRevision(reply, state.revision, getService(state, request.params.name));
    },
  );

  /** Applies a change to one service and answers with that service at the new revision. */
  async function change(request: FastifyRequest, reply: FastifyReply, serviceChange: Change) {
    const { revision, state } = await store.apply(serviceChange, applyOptions(request));
    return withRevision(reply, revision, getService(state, serviceChange.name));
  }

  app.put<{ Params: NameParams; Body: ServiceBody }>(
    '/v1/services/:name',
    { schema: { tags, summary: 'Define or replace a service', params, body: serviceBodySchema, response } },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'putService', name, body: request.body });
    },
  );

  app.delete<{ Params: NameParams }>(
    '/v1/services/:name',
    { schema: { tags, summary: 'Remove a service; answers with what was removed', params, response } },
    async (request, reply) => {
      const { name } = request.params;
      const { revision, previous } = await store.apply({ kind: 'deleteService', name }, applyOptions(request));
      return withRevision(reply, revision, getService(previous, name));
    },
  );

  app.put<{ Params: NameParams; Body: Weights }>(
    '/v1/services/:name/weights',
    {
      schema: {
        tags,
        summary: 'Shift traffic: percentages per version, summing to 100 (versions left out get 0)',
        params,
        body: weightsBodySchema,
        response,
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'setWeights', name, weights: request.body });
    },
  );

  app.post<{ Params: NameParams; Body: PromoteBody }>(
    '/v1/services/:name/promote',
    { schema: { tags, summary: 'All traffic to a version, which becomes stable', params, body: promoteBodySchema, response } },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'promote', name, version: request.body.version });
    },
  );

  app.post<{ Params: NameParams; Body: unknown }>(
    '/v1/services/:name/rollback',
    {
      schema: {
        tags,
        summary: 'All traffic back to the stable version in one push',
        description: 'Takes no body (or an empty JSON object).',
        params,
        response,
      },
    },
    async (request, reply) => {
      refuseBody(request.body, 'Rollback');
      const { name } = request.params;
      return change(request, reply, { kind: 'rollback', name });
    },
  );
};
