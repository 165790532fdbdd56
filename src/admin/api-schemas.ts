// JSON Schemas of what the admin API answers: the error shape, services and listeners (the
// request schemas with their normalised fields required, and what a change answers besides:
// `unchanged`, `abortedRollout`, a delete's `recentTraffic`), the guardrails' query parameters,
// audit and revision history, the fleet reports and a node's resources. They describe the answers
// in the OpenAPI document; they never filter or coerce an answer (see api-docs.ts).

import { ERROR_CATALOG } from '../errors.js';
import { listenerBodySchema, serviceBodySchema } from '../model/schema.js';

const revision = { type: 'integer', minimum: 0, description: 'The desired-state revision.' } as const;
const time = { type: 'string', description: 'ISO 8601 time.' } as const;
const nodeSchema = {
  type: 'object',
  required: ['id', 'cluster'],
  properties: { id: { type: 'string' }, cluster: { type: 'string' } },
} as const;
const streamSchema = {
  type: 'object',
  required: ['id', 'kind', 'aggregated'],
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: ['sotw', 'delta'] },
    aggregated: { type: 'boolean', description: 'ADS (true) or one of the per-type discovery services.' },
    connectedAt: time,
  },
} as const;
const appliedRevision = {
  type: ['integer', 'null'],
  description: 'Newest revision whose resources the proxy has ACKed for every type it asked for; null when none.',
} as const;

const errorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOG), description: 'Stable code; see docs/errors.md.' },
        message: { type: 'string' },
        path: { type: 'string', description: 'JSON pointer of the offending field, when one is to blame.' },
      },
    },
  },
} as const;

/** A route's response schemas: its answers, and the error shape for every 4xx and 5xx. */
export function responses<T extends Record<number, object>>(answers: T) {
  return {
    ...answers,
    '4xx': { ...errorSchema, description: 'Refused; nothing changed. The codes are listed in docs/errors.md.' },
    '5xx': { ...errorSchema, description: 'sluice failed (SLUICE_INTERNAL) or is not ready (SLUICE_NOT_READY).' },
  };
}

/** `{revision, ...}` for an object schema. */
export function revisioned<T extends { required: readonly string[]; properties: object }>(schema: T) {
  return { ...schema, required: ['revision', ...schema.required], properties: { revision, ...schema.properties } };
}

export const statusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

export const serviceSchema = {
  ...serviceBodySchema,
  required: ['name', 'listener', 'match', 'hosts', 'versions', 'weights', 'stable', 'pinHeader', 'timeout'],
} as const;

export const listenerSchema = { ...listenerBodySchema, required: ['name', 'address', 'port'] } as const;

const unchanged = {
  type: 'boolean',
  enum: [true],
  description: 'Present when the change changed nothing: no revision, audit entry or push was made; `revision` is the current one.',
} as const;

export const abortedRolloutSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['candidate', 'phase', 'step', 'reason'],
  description: 'Present when this change ended the service\'s active rollout (it is now aborted; see GET …/rollout).',
  properties: {
    candidate: { type: 'string' },
    phase: { type: 'string', description: 'The phase the rollout was in when this change ended it.' },
    step: { type: 'integer', minimum: 0 },
    reason: { type: 'string' },
  },
} as const;

/** What a change to one service answers: the service, and whether anything changed or a rollout ended. */
export const serviceChangeSchema = revisioned({
  ...serviceSchema,
  properties: { ...serviceSchema.properties, unchanged, abortedRollout: abortedRolloutSchema },
} as const);

export const recentTrafficSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['requests', 'byVersion', 'proxies', 'windowSeconds'],
  description: 'Present when a forced delete removed a service that proxies served within the recent window (their load reports): those requests now fail (404).',
  properties: {
    requests: { type: 'integer', minimum: 1 },
    byVersion: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, description: 'Requests per version that served any.' },
    proxies: { type: 'integer', minimum: 1, description: 'How many proxies reported them.' },
    windowSeconds: { type: 'integer', minimum: 1, description: 'The window, ending at the delete.' },
  },
} as const;

/** What deleting a service answers: the service removed, a rollout it aborted, the recent traffic it cut off. */
export const serviceDeletionSchema = revisioned({
  ...serviceSchema,
  properties: { ...serviceSchema.properties, abortedRollout: abortedRolloutSchema, recentTraffic: recentTrafficSchema },
} as const);

/** What a change to one listener answers. */
export const listenerChangeSchema = revisioned({ ...listenerSchema, properties: { ...listenerSchema.properties, unchanged } } as const);

/** `?override=rollout` on weights, promote and put: abort the service's active rollout instead of refusing. */
export const overrideQuerySchema = {
  type: 'object',
  properties: {
    override: {
      type: 'string',
      enum: ['rollout'],
      description: 'With an active rollout the change is refused (409 SLUICE_ROLLOUT_IN_PROGRESS); "rollout" makes it anyway and aborts the rollout.',
    },
  },
} as const;

/** `?force=true` on delete: confirm deleting a service with an active rollout or recent traffic. */
export const forceQuerySchema = {
  type: 'object',
  properties: {
    force: {
      type: 'string',
      enum: ['true', 'false'],
      description:
        'A service with an active rollout, or that proxies served recently (by their load reports), is deleted only with force=true (else 409 SLUICE_DELETE_UNCONFIRMED); the rollout is aborted.',
    },
  },
} as const;

export const servicesSchema = revisioned({
  type: 'object',
  additionalProperties: false,
  required: ['services'],
  properties: { services: { type: 'array', items: serviceSchema } },
} as const);

export const listenersSchema = revisioned({
  type: 'object',
  additionalProperties: false,
  required: ['listeners'],
  properties: { listeners: { type: 'array', items: listenerSchema } },
} as const);

const historyEntryProperties = {
  revision,
  actor: { type: 'string', description: '"token" for a call authenticated by the admin token, "admin" otherwise, unless X-Sluice-Actor names someone.' },
  at: time,
  summary: { type: 'string' },
} as const;

export const auditSchema = revisioned({
  type: 'object',
  additionalProperties: false,
  required: ['entries'],
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['revision', 'actor', 'at', 'change', 'summary'],
        properties: {
          ...historyEntryProperties,
          change: {
            type: 'object',
            required: ['kind'],
            properties: { kind: { type: 'string' } },
            description: 'The change as it was asked for.',
          },
        },
      },
    },
  },
} as const);

export const revisionHistorySchema = revisioned({
  type: 'object',
  additionalProperties: false,
  required: ['revisions'],
  properties: {
    revisions: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['revision', 'actor', 'at', 'summary'], properties: historyEntryProperties },
    },
  },
} as const);

export const restoredSchema = revisioned({
  type: 'object',
  additionalProperties: false,
  required: ['restored', 'listeners', 'services'],
  properties: {
    restored: { type: 'integer', minimum: 1, description: 'The revision whose listeners and services the new revision has.' },
    unchanged,
    abortedRollouts: {
      type: 'object',
      description: 'The active rollouts the restore ended, by service (present when it ended any).',
      additionalProperties: abortedRolloutSchema,
    },
    listeners: { type: 'array', items: listenerSchema },
    services: { type: 'array', items: serviceSchema },
  },
} as const);

const rejectionsSchema = {
  type: 'array',
  description: "Resource types whose last answer from the proxy was a NACK: Envoy's message and the services and listeners that changed in the rejected version (the suspects).",
  items: {
    type: 'object',
    required: ['type', 'version', 'message', 'at', 'services', 'listeners'],
    properties: {
      type: { type: 'string', enum: ['listeners', 'routes', 'clusters', 'endpoints'] },
      version: { type: 'string', description: 'The rejected version.' },
      message: { type: 'string', description: "Envoy's error detail." },
      at: time,
      services: { type: 'array', items: { type: 'string' } },
      listeners: { type: 'array', items: { type: 'string' } },
    },
  },
} as const;

const heldSchema = {
  type: 'array',
  description:
    "Changes this proxy rejected that are held back for it alone: it holds the service or listener as it accepted it (a held service still takes today's weights) and gets every other change; the hold ends when the unit is changed otherwise or the proxy disconnects.",
  items: {
    type: 'object',
    required: ['unit', 'name', 'since', 'type', 'message', 'at'],
    properties: {
      unit: { type: 'string', enum: ['service', 'listener'] },
      name: { type: 'string' },
      since: { type: 'integer', description: 'The revision whose change it rejected.' },
      type: { type: 'string', enum: ['listeners', 'routes', 'clusters', 'endpoints'] },
      message: { type: 'string', description: "Envoy's error detail." },
      at: time,
    },
  },
} as const;

export const proxiesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['proxies'],
  properties: {
    proxies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['node', 'streams', 'appliedRevision', 'resources', 'warnings'],
        properties: {
          node: nodeSchema,
          envoyVersion: { type: 'string', description: 'Set only when the client is Envoy.' },
          userAgent: { type: 'string' },
          clientVersion: { type: 'string' },
          versionAffinity: { type: 'string', enum: ['hash', 'cohort-cookie'] },
          streams: { type: 'array', items: streamSchema },
          appliedRevision,
          inSync: { type: 'boolean' },
          services: {
            type: 'object',
            description:
              'Per service: the newest revision the proxy holds it as of (its listener, routes, clusters and endpoints) and whether that is the current one; resources it rejects of other services and listeners do not hold a service back.',
            additionalProperties: {
              type: 'object',
              required: ['appliedRevision', 'inSync'],
              properties: { appliedRevision, inSync: { type: 'boolean' } },
            },
          },
          rejected: rejectionsSchema,
          held: heldSchema,
          warnings: {
            type: 'array',
            description: 'How the proxy looks misconfigured (empty when it does not), each with a stable code: see the README.',
            items: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', description: 'Stable, e.g. duplicate-node-id, no-listener-selected, cohort-cookie-affinity.' },
                message: { type: 'string' },
              },
            },
          },
          resources: {
            type: 'object',
            description: 'Per type (listeners, routes, clusters, endpoints): sent and ACKed versions and the last NACK.',
            additionalProperties: {
              type: 'object',
              properties: {
                sentVersion: { type: 'string' },
                sentAt: time,
                ackedVersion: { type: 'string' },
                ackedAt: time,
                lastNack: {
                  type: 'object',
                  required: ['version', 'message', 'at'],
                  properties: { version: { type: 'string' }, message: { type: 'string' }, at: time },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

export const revisionReportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['revision', 'current', 'complete', 'proxies'],
  properties: {
    revision,
    service: { type: 'string', description: 'Set when asked about one service (?service=): applied then means the proxy holds that service as of the revision or later.' },
    current: revision,
    complete: { type: 'boolean', description: 'Every connected proxy has applied the revision.' },
    proxies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['node', 'streams', 'appliedRevision', 'applied'],
        properties: {
          node: nodeSchema,
          replica: { type: 'string', description: 'Set for a proxy connected to another replica.' },
          streams: { type: 'array', items: streamSchema },
          appliedRevision,
          applied: { type: 'boolean' },
          rejected: rejectionsSchema,
          held: heldSchema,
        },
      },
    },
    note: { type: 'string', description: 'Set when no proxy is connected (complete is then trivially true).' },
  },
} as const;

const perType = <T extends object>(schema: T) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['listeners', 'routes', 'clusters', 'endpoints'],
    properties: { listeners: schema, routes: schema, clusters: schema, endpoints: schema },
  }) as const;

export const nodeResourcesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['revision', 'node', 'group', 'versions', 'resources'],
  properties: {
    revision,
    node: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'cluster', 'kind', 'envoyVersion', 'userAgent', 'connected'],
      properties: {
        id: { type: 'string' },
        cluster: { type: 'string' },
        kind: { type: 'string', enum: ['ads', 'ads-delta', 'per-type', 'per-type-delta'] },
        envoyVersion: { type: 'string' },
        userAgent: { type: 'string' },
        connected: { type: 'boolean', description: 'Whether a node with this id is connected; its facts fill in what the query leaves out.' },
      },
    },
    group: { type: 'string', description: 'The snapshot group the node reads.' },
    versions: perType({ type: 'string' }),
    resources: perType({ type: 'array', items: { type: 'object', description: 'An xDS resource as proto3 JSON.' } }),
  },
} as const;
