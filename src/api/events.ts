// The admin API's contract for `GET /v1/events`: the data of each Server-Sent Event (one JSON
// object with its `id`, `type` and `at`), per event type, and the `reset` a resume gets when the
// events it asked for are gone. TypeBox schemas and their types; the event sources build these,
// the CLI and the console read them.

import { Type, type Static, type TLiteral, type TProperties } from '@sinclair/typebox';
import { stringEnum, weightsField } from '../model/fields.js';
import { rolloutDecisionSchema, rolloutPhaseSchema } from '../model/types.js';
import { WHOLE_NUMBER_PATTERN, revisionField, timeField } from './common.js';

export const EVENT_TYPES = ['revision', 'rollout', 'proxy-connected', 'proxy-disconnected', 'ack', 'nack', 'shadow'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event's data: `id` (also the SSE `id:`), its `type` and when it happened, then its own fields. */
function eventSchema<T extends EventType | 'reset', P extends TProperties>(type: T, properties: P, description: string) {
  const typeField: TLiteral<T> = Type.Literal(type);
  return Type.Object({ id: Type.Optional(Type.Integer({ minimum: 1 })), type: typeField, at: timeField, ...properties }, { additionalProperties: false, description });
}

export const revisionEventSchema = eventSchema(
  'revision',
  {
    revision: revisionField,
    actor: Type.String(),
    change: Type.String({ description: 'The kind of change (putService, setWeights, startRollout, …).' }),
    summary: Type.String(),
    service: Type.Optional(Type.String()),
    listener: Type.Optional(Type.String()),
    restored: Type.Optional(Type.Integer({ minimum: 1, description: 'The revision a restore brought back.' })),
    weights: Type.Optional({
      ...weightsField,
      description: "The service's weights after the change, per version; absent when the service is gone (or the commit was told in a batch caught up from another replica).",
    }),
  },
  'A revision was committed: who, what, the service or listener it is about.',
);
export type RevisionEvent = Static<typeof revisionEventSchema>;

const { at: _decidedAt, ...decisionProperties } = rolloutDecisionSchema.properties;

export const rolloutEventSchema = eventSchema(
  'rollout',
  {
    ...decisionProperties,
    revision: revisionField,
    service: Type.String(),
    candidate: Type.String(),
    phase: rolloutPhaseSchema,
    message: Type.String({ description: 'The decision in words.' }),
  },
  'A rollout decision (by the controller or a person), with the phase it left the rollout in.',
);
export type RolloutEvent = Static<typeof rolloutEventSchema>;

const nodeProperties = {
  node: Type.String({ description: 'node.id' }),
  cluster: Type.String({ description: 'node.cluster' }),
  envoyVersion: Type.String({ description: 'Empty for a client other than Envoy.' }),
  userAgent: Type.Optional(Type.String({ description: 'Set for a client other than Envoy.' })),
  clientVersion: Type.Optional(Type.String({ description: 'Set for a client other than Envoy.' })),
};
const eventNodeSchema = Type.Object(nodeProperties);
/** The node an event is about, as events name it. */
export type EventNode = Static<typeof eventNodeSchema>;

const resourceType = stringEnum(['listeners', 'routes', 'clusters', 'endpoints']);

export const proxyConnectedEventSchema = eventSchema(
  'proxy-connected',
  { ...nodeProperties, transport: stringEnum(['sotw', 'delta']), aggregated: Type.Boolean() },
  "A node's first stream opened.",
);
export const proxyDisconnectedEventSchema = eventSchema('proxy-disconnected', nodeProperties, "A node's last stream closed.");
export const ackEventSchema = eventSchema(
  'ack',
  { ...nodeProperties, resourceType, version: Type.String() },
  'A proxy ACKed a version of a resource type (sent only while someone watches; the newest per stream and type).',
);
export const nackEventSchema = eventSchema(
  'nack',
  {
    ...nodeProperties,
    resourceType,
    version: Type.String({ description: 'The rejected version.' }),
    message: Type.String({ description: "Envoy's error detail." }),
    services: Type.Optional(Type.Array(Type.String(), { description: 'The services that changed in the rejected version (the suspects).' })),
    listeners: Type.Optional(Type.Array(Type.String(), { description: 'The listeners likewise.' })),
  },
  'A proxy rejected a version of a resource type.',
);

export type NackEvent = Static<typeof nackEventSchema>;

export const proxyEventSchema = Type.Union([proxyConnectedEventSchema, proxyDisconnectedEventSchema, ackEventSchema, nackEventSchema]);
export type ProxyEvent = Static<typeof proxyEventSchema>;

export const shadowEventSchema = eventSchema(
  'shadow',
  {
    service: Type.String(),
    to: Type.String({ description: 'The shadow candidate.' }),
    samples: Type.Integer({ minimum: 0 }),
    agreed: Type.Integer({ minimum: 0 }),
    disagreed: Type.Integer({ minimum: 0 }),
    candidateErrors: Type.Integer({ minimum: 0 }),
    agreement: Type.Union([Type.Number(), Type.Null()], { description: 'agreed / samples; null before any sample.' }),
    message: Type.String({ description: 'The figures in words.' }),
  },
  "A shadow's results since they started (GET /v1/services/{name}/shadow has the rest): at most one per service every 10 seconds, when new answers were compared.",
);
export type ShadowEvent = Static<typeof shadowEventSchema>;

export const resetEventSchema = eventSchema(
  'reset',
  {
    since: Type.Integer({ minimum: 0 }),
    oldest: Type.Integer({ minimum: 1 }),
    latest: Type.Integer({ minimum: 0 }),
    message: Type.String(),
  },
  'Sent first on a resume whose events are gone (or from before a restart): re-read the state, then follow.',
);
export type ResetEvent = Static<typeof resetEventSchema>;

export const eventsQuerySchema = Type.Object(
  {
    since: Type.Optional(
      Type.String({
        pattern: WHOLE_NUMBER_PATTERN,
        description: 'Resume after this event id, for clients that cannot send `Last-Event-ID` (the header wins when both are given).',
      }),
    ),
    types: Type.Optional(Type.String({ maxLength: 200, description: 'Only these events, comma-separated (e.g. `revision,rollout`).' })),
    service: Type.Optional(Type.String({ maxLength: 64, description: 'Only events about this service (revisions, rollout decisions, NACKs naming it).' })),
  },
  { additionalProperties: false },
);

export const eventsHeadersSchema = Type.Object({
  'last-event-id': Type.Optional(Type.String({ description: 'Resume after this event id (sent by EventSource on reconnecting).' })),
});

/** Every event's data. */
export const eventDataSchema = Type.Union([revisionEventSchema, rolloutEventSchema, proxyEventSchema, shadowEventSchema, resetEventSchema]);
export type EventData = Static<typeof eventDataSchema>;
