// Routes for rollouts: start one, read the service's latest one (or every service's, without their
// timelines), and steer it (pause, resume, approve, abort). Each command is one store change with the caller's If-Match and actor, stamped
// by the rollout clock; the answer is the rollout at the new revision (with `?dryRun=true`, what
// proxies would receive instead, nothing written). Writes only through the store.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  ROLLOUT_PHASES,
  isFinal,
  rolloutBodySchema,
  rolloutReasonBodySchema,
  type RolloutBody,
  type RolloutCommand,
  type RolloutReasonBody,
} from '../../model/rollout.js';
import { nameParamsSchema, weightsBodySchema } from '../../model/schema.js';
import type { DesiredState } from '../../model/types.js';
import { getRollout, type Change } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { responses, revisioned } from '../api-schemas.js';
import { answerDryRun, dryRunQuerySchema, isDryRun, type DryRunQuery, type DryRunView } from '../dry-run.js';
import { refuseBody } from '../json-body.js';
import { applyOptions, withRevision } from '../revision-headers.js';

interface NameParams {
  name: string;
}

const time = { type: 'string', description: 'ISO 8601 time.' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const outcome = { type: 'string', enum: ['pass', 'fail', 'inconclusive'] } as const;

const decisionSchema = {
  type: 'object',
  required: ['at', 'event', 'step', 'actor'],
  properties: {
    at: time,
    event: { type: 'string' },
    step: count,
    actor: { type: 'string', description: '"rollout" for the controller, else who steered it.' },
    revision: { type: 'integer', description: 'The revision that carried new weights.' },
    weights: weightsBodySchema,
    outcome,
    window: { type: 'object', required: ['from', 'to'], properties: { from: time, to: time } },
    measurements: {
      type: 'array',
      items: {
        type: 'object',
        required: ['metric', 'outcome'],
        properties: {
          metric: { type: 'string' },
          outcome,
          value: { type: 'number' },
          requests: count,
          errors: count,
          reason: { type: 'string' },
        },
      },
    },
    failures: count,
    inconclusive: count,
    reason: { type: 'string' },
  },
} as const;

const rolloutSchema = revisioned({
  type: 'object',
  required: ['service', 'candidate', 'stable', 'steps', 'analysis', 'phase', 'step', 'failures', 'inconclusive', 'startedAt', 'timeline'],
  properties: {
    service: { type: 'string' },
    candidate: { type: 'string' },
    stable: { type: 'string', description: 'The stable version when the rollout started.' },
    steps: rolloutBodySchema.properties.steps,
    analysis: rolloutBodySchema.properties.analysis,
    proxyTimeout: rolloutBodySchema.properties.proxyTimeout,
    notify: rolloutBodySchema.properties.notify,
    phase: { type: 'string', enum: ROLLOUT_PHASES },
    step: { ...count, description: 'Index of the current step (the number of steps once past the last).' },
    weights: { ...weightsBodySchema, description: "The service's weights now." },
    stepWeights: weightsBodySchema,
    stepRevision: { type: 'integer' },
    holdStartedAt: time,
    holdUntil: time,
    windowStart: time,
    nextAnalysisAt: time,
    failures: count,
    inconclusive: { ...count, description: 'Consecutive inconclusive analyses.' },
    pausedFrom: { type: 'string', enum: ROLLOUT_PHASES },
    holdRemainingMs: count,
    reason: { type: 'string' },
    startedAt: time,
    finishedAt: time,
    timeline: { type: 'array', items: decisionSchema, description: 'The latest decisions, oldest first (the audit log keeps all).' },
  },
} as const);

const { timeline: _timeline, ...summaryProperties } = rolloutSchema.properties;

/** Every service's latest rollout, without its timeline. */
const rolloutListSchema = revisioned({
  type: 'object',
  required: ['rollouts'],
  properties: {
    rollouts: {
      type: 'array',
      items: { type: 'object', required: rolloutSchema.required.filter((field) => field !== 'timeline'), properties: summaryProperties },
    },
  },
} as const);

const tags = ['rollouts'];
const params = nameParamsSchema;

/** The service's latest rollout with its current weights. */
function rolloutOf(state: DesiredState, name: string) {
  const rollout = getRollout(state, name);
  const service = Object.hasOwn(state.services, name) ? state.services[name] : undefined;
  return service === undefined ? rollout : { ...rollout, weights: service.weights };
}

export const rolloutRoutes: FastifyPluginAsync<{ store: Store; clock: () => number; dryRun?: DryRunView }> = async (app, { store, clock, dryRun }) => {
  /** The rollout at the new revision, with `status`; under `?dryRun=true` the dry run's answer instead. */
  async function change(request: FastifyRequest<{ Querystring: DryRunQuery }>, reply: FastifyReply, rolloutChange: Change, status = 200) {
    if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, rolloutChange);
    const { revision, state } = await store.apply(rolloutChange, applyOptions(request));
    return withRevision(reply.status(status), revision, rolloutOf(state, rolloutChange.name));
  }

  app.post<{ Params: NameParams; Body: RolloutBody; Querystring: DryRunQuery }>(
    '/v1/services/:name/rollouts',
    {
      schema: {
        tags,
        summary: 'Start a rollout of a candidate version through weighted steps, holds, analysis and approval gates',
        params,
        querystring: dryRunQuerySchema,
        body: rolloutBodySchema,
        response: responses({ 201: rolloutSchema }),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const { actor } = applyOptions(request);
      const at = new Date(clock()).toISOString();
      return change(request, reply, { kind: 'startRollout', name, body: request.body, at, actor }, 201);
    },
  );

  app.get<{ Querystring: { active?: 'true' | 'false' } }>(
    '/v1/rollouts',
    {
      schema: {
        tags,
        summary: "Every service's latest rollout (phase, step, weights; no timeline), by service name; ?active=true: only those not finished",
        querystring: { type: 'object', additionalProperties: false, properties: { active: { type: 'string', enum: ['true', 'false'] } } },
        response: responses({ 200: rolloutListSchema }),
      },
    },
    async (request, reply) => {
      const state = store.current();
      const rollouts = Object.keys(state.rollouts ?? {})
        .sort()
        .map((name) => {
          const { timeline: _, ...summary } = rolloutOf(state, name);
          return summary;
        })
        .filter((rollout) => request.query.active !== 'true' || !isFinal(rollout.phase));
      return withRevision(reply, state.revision, { rollouts });
    },
  );

  app.get<{ Params: NameParams }>(
    '/v1/services/:name/rollout',
    { schema: { tags, summary: "The service's latest rollout: phase, step, weights and every decision", params, response: responses({ 200: rolloutSchema }) } },
    async (request, reply) => {
      const state = store.current();
      return withRevision(reply, state.revision, rolloutOf(state, request.params.name));
    },
  );

  const commands: { command: RolloutCommand; summary: string; reason: boolean }[] = [
    { command: 'pause', summary: 'Pause the rollout where it is (a hold keeps what is left of it)', reason: true },
    { command: 'resume', summary: 'Resume a paused rollout', reason: false },
    { command: 'approve', summary: 'Pass the approval step the rollout waits at', reason: false },
    { command: 'abort', summary: 'End the rollout and send all traffic to stable in one push', reason: true },
  ];
  for (const { command, summary, reason } of commands) {
    app.post<{ Params: NameParams; Body: RolloutReasonBody | undefined; Querystring: DryRunQuery }>(
      `/v1/services/:name/rollout/${command}`,
      {
        schema: {
          tags,
          summary,
          ...(reason ? { description: 'Takes no body, or {"reason": "…"}, recorded in the timeline.' } : { description: 'Takes no body (or an empty JSON object).' }),
          params,
          querystring: dryRunQuerySchema,
          ...(reason ? { body: rolloutReasonBodySchema } : {}),
          response: responses({ 200: rolloutSchema }),
        },
        // No body is the same as an empty one (the schema validates whatever arrives).
        ...(reason
          ? {
              preValidation: async (request: FastifyRequest) => {
                request.body ??= {};
              },
            }
          : {}),
      },
      async (request, reply) => {
        if (!reason) refuseBody(request.body, `${command[0]!.toUpperCase()}${command.slice(1)}`);
        const { name } = request.params;
        const { actor } = applyOptions(request);
        const at = new Date(clock()).toISOString();
        const why = request.body?.reason;
        const steerChange: Change = { kind: 'steerRollout', name, command, at, actor, ...(why === undefined ? {} : { reason: why }) };
        return change(request, reply, steerChange);
      },
    );
  }
};
