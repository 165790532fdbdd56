// Routes for rollouts: start one, read the service's latest one (or every service's, without their
// timelines), and steer it (pause, resume, approve, abort). Each command is one store change with the caller's If-Match and actor, stamped
// by the rollout clock; the answer is the rollout at the new revision (with `?dryRun=true`, what
// proxies would receive instead, nothing written). Writes only through the store.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { nameParamsSchema, responses } from '../../api/common.js';
import { dryRunAnswerSchema, dryRunQuerySchema, orDryRun, type DryRunQuery, type DryRunView } from '../../api/dry-run.js';
import { rolloutAnswerSchema, rolloutListQuerySchema, rolloutListSchema } from '../../api/rollouts.js';
import { isFinal, rolloutBodySchema, rolloutReasonBodySchema, type RolloutCommand, type RolloutReasonBody } from '../../model/rollout.js';
import type { DesiredState } from '../../model/types.js';
import { getRollout, type Change } from '../../state/changes.js';
import type { Store } from '../../state/store.js';
import { answerDryRun, isDryRun } from '../dry-run.js';
import { refuseBody } from '../json-body.js';
import { applyOptions, withRevision } from '../revision-headers.js';

const tags = ['rollouts'];
const params = nameParamsSchema;

/** The service's latest rollout with its current weights. */
function rolloutOf(state: DesiredState, name: string) {
  const rollout = getRollout(state, name);
  const service = Object.hasOwn(state.services, name) ? state.services[name] : undefined;
  return service === undefined ? rollout : { ...rollout, weights: service.weights };
}

export const rolloutRoutes: FastifyPluginAsyncTypebox<{ store: Store; clock: () => number; dryRun?: DryRunView }> = async (app, { store, clock, dryRun }) => {
  /** The rollout at the new revision, with `status`; under `?dryRun=true` the dry run's answer instead. */
  async function change(request: FastifyRequest & { query: DryRunQuery }, reply: FastifyReply, rolloutChange: Change, status = 200) {
    if (isDryRun(request)) return answerDryRun(store, dryRun, request, reply, rolloutChange);
    const { revision, state } = await store.apply(rolloutChange, applyOptions(request));
    return withRevision(reply.status(status), revision, rolloutOf(state, rolloutChange.name));
  }

  app.post(
    '/v1/services/:name/rollouts',
    {
      schema: {
        tags,
        summary: 'Start a rollout of a candidate version through weighted steps, holds, analysis and approval gates',
        params,
        querystring: dryRunQuerySchema,
        body: rolloutBodySchema,
        response: responses({ 201: rolloutAnswerSchema, 200: dryRunAnswerSchema }),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const { actor } = applyOptions(request);
      const at = new Date(clock()).toISOString();
      return change(request, reply, { kind: 'startRollout', name, body: request.body, at, actor }, 201);
    },
  );

  app.get(
    '/v1/rollouts',
    {
      schema: {
        tags,
        summary: "Every service's latest rollout (phase, step, weights; no timeline), by service name; ?active=true: only those not finished",
        querystring: rolloutListQuerySchema,
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

  app.get(
    '/v1/services/:name/rollout',
    { schema: { tags, summary: "The service's latest rollout: phase, step, weights and every decision", params, response: responses({ 200: rolloutAnswerSchema }) } },
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
    app.post(
      `/v1/services/:name/rollout/${command}`,
      {
        schema: {
          tags,
          summary,
          ...(reason ? { description: 'Takes no body, or {"reason": "…"}, recorded in the timeline.' } : { description: 'Takes no body (or an empty JSON object).' }),
          params,
          querystring: dryRunQuerySchema,
          ...(reason ? { body: rolloutReasonBodySchema } : {}),
          response: responses({ 200: orDryRun(rolloutAnswerSchema) }),
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
        // Validated against rolloutReasonBodySchema for the commands that take a reason.
        const why = reason ? (request.body as RolloutReasonBody).reason : undefined;
        const steerChange: Change = { kind: 'steerRollout', name, command, at, actor, ...(why === undefined ? {} : { reason: why }) };
        return change(request, reply, steerChange);
      },
    );
  }
};
