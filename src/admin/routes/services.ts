// Routes for services: read, put, delete, and the traffic actions (weights, promote, rollback).
// Each mutation is one store change with the caller's If-Match and actor, and the guardrails'
// query overrides (`?override=rollout`; `?force=true` for a rollout or recent traffic); the answer
// is the service at the new revision, saying when nothing changed, a rollout was ended or a delete
// cut off recent traffic; with `?dryRun=true`, what proxies would receive instead, nothing written.
// Writes only through the store; reads traffic only through its view.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { nameParamsSchema, responses } from '../../api/common.js';
import {
  forceQuerySchema,
  overrideQuerySchema,
  serviceAnswerSchema,
  serviceChangeSchema,
  serviceDeletionSchema,
  servicesSchema,
  type OverrideQuery,
  type ServiceTrafficView,
} from '../../api/desired-state.js';
import { dryRunQuerySchema, orDryRun, type DryRunQuery, type DryRunView } from '../../api/dry-run.js';
import { promoteBodySchema, serviceBodySchema, weightsBodySchema } from '../../model/schema.js';
import type { Service } from '../../model/types.js';
import { activeRollout, endedRollout, getService, type Change } from '../../state/changes.js';
import type { ApplyResult, Store } from '../../state/store.js';
import { unconfirmedDelete } from '../delete-guard.js';
import { answerDryRun, isDryRun } from '../dry-run.js';
import { refuseBody } from '../json-body.js';
import { applyOptions, withRevision } from '../revision-headers.js';

const tags = ['services'];
const params = nameParamsSchema;
const response = responses({ 200: serviceAnswerSchema });
const changeResponse = responses({ 200: orDryRun(serviceChangeSchema) });

/** `{override: 'rollout'}` when the query asks for it, else nothing. */
function overrideOf(query: OverrideQuery): { override?: 'rollout' } {
  return query.override === 'rollout' ? { override: 'rollout' } : {};
}

/** The service as a change answers it: `unchanged` when nothing changed, `abortedRollout` when it ended one. */
function changeAnswer(result: ApplyResult, name: string, service: Service) {
  const aborted = endedRollout(result.previous, result.state, name);
  return {
    ...service,
    ...(result.unchanged ? { unchanged: true as const } : {}),
    ...(aborted === undefined ? {} : { abortedRollout: aborted }),
  };
}

export interface ServiceRouteOptions {
  store: Store;
  /** What proxies served of a service lately; without it only an active rollout guards a delete. */
  traffic?: ServiceTrafficView;
  /** What a change would change in proxies' resources, for `?dryRun=true`. */
  dryRun?: DryRunView;
}

export const serviceRoutes: FastifyPluginAsyncTypebox<ServiceRouteOptions> = async (app, { store, traffic, dryRun }) => {
  app.get(
    '/v1/services',
    { schema: { tags, summary: 'Every service, by name', response: responses({ 200: servicesSchema }) } },
    async (_request, reply) => {
      const state = store.current();
      const services = Object.values(state.services).sort((a, b) => a.name.localeCompare(b.name));
      return withRevision(reply, state.revision, { services });
    },
  );

  app.get(
    '/v1/services/:name',
    { schema: { tags, summary: 'One service', params, response } },
    async (request, reply) => {
      const state = store.current();
      return withRevision(reply, state.revision, getService(state, request.params.name));
    },
  );

  /** Applies a change to one service and answers with that service at the new revision. */
  async function change(request: FastifyRequest & { query: DryRunQuery }, reply: FastifyReply, serviceChange: Change) {
    if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, serviceChange);
    const result = await store.apply(serviceChange, applyOptions(request));
    return withRevision(reply, result.revision, changeAnswer(result, serviceChange.name, getService(result.state, serviceChange.name)));
  }

  const guarded = 'During an active rollout a change that would abort it is refused (409 SLUICE_ROLLOUT_IN_PROGRESS) unless `?override=rollout`.';

  app.put(
    '/v1/services/:name',
    {
      schema: {
        tags,
        summary: 'Define or replace a service',
        description: `${guarded} Only a replacement that changes the weights or stable version, or removes the rollout's candidate or stable version, would abort it; other replacements leave it running.`,
        params,
        querystring: overrideQuerySchema,
        body: serviceBodySchema,
        response: changeResponse,
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'putService', name, body: request.body, ...overrideOf(request.query) });
    },
  );

  app.delete(
    '/v1/services/:name',
    {
      schema: {
        tags,
        summary: 'Remove a service; answers with what was removed',
        description:
          'A service with an active rollout, or that proxies served recently (by their load reports; see the README), is removed only ' +
          'with `?force=true` (else 409 SLUICE_DELETE_UNCONFIRMED, naming the rollout and the requests that would fail); ' +
          'the rollout is aborted, and the answer says so and what traffic the delete cut off.',
        params,
        querystring: forceQuerySchema,
        response: responses({ 200: orDryRun(serviceDeletionSchema) }),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const force = request.query.force === 'true';
      const before = store.current();
      const served = traffic?.recentTraffic(getService(before, name));
      const refusal = served === undefined || force ? undefined : unconfirmedDelete(name, served, activeRollout(before, name));
      if (refusal !== undefined) throw refusal;
      const deletion: Change = { kind: 'deleteService', name, ...(force ? { force } : {}) };
      if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, deletion);
      const result = await store.apply(deletion, applyOptions(request));
      const answer = changeAnswer(result, name, getService(result.previous, name));
      return withRevision(reply, result.revision, served !== undefined && served.requests > 0 ? { ...answer, recentTraffic: served } : answer);
    },
  );

  app.put(
    '/v1/services/:name/weights',
    {
      schema: {
        tags,
        summary: 'Shift traffic: percentages per version, summing to 100 (versions left out get 0)',
        description: guarded,
        params,
        querystring: overrideQuerySchema,
        body: weightsBodySchema,
        response: changeResponse,
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'setWeights', name, weights: request.body, ...overrideOf(request.query) });
    },
  );

  app.post(
    '/v1/services/:name/promote',
    {
      schema: {
        tags,
        summary: 'All traffic to a version, which becomes stable',
        description: guarded,
        params,
        querystring: overrideQuerySchema,
        body: promoteBodySchema,
        response: changeResponse,
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      return change(request, reply, { kind: 'promote', name, version: request.body.version, ...overrideOf(request.query) });
    },
  );

  app.post(
    '/v1/services/:name/rollback',
    {
      schema: {
        tags,
        summary: 'All traffic back to the stable version in one push',
        description: 'Takes no body (or an empty JSON object). Never refused for a rollout: an active one is aborted, and the answer says so.',
        params,
        querystring: dryRunQuerySchema,
        response: changeResponse,
      },
    },
    async (request, reply) => {
      refuseBody(request.body, 'Rollback');
      const { name } = request.params;
      return change(request, reply, { kind: 'rollback', name });
    },
  );
};
