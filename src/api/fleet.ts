// The admin API's contract for the fleet: the connected proxies with what they applied, reject and
// hold back (`/v1/proxies`), which of them applied a revision (`/v1/revisions/{n}`), and the exact
// resources a node would receive (`/v1/nodes/{id}/resources`). TypeBox schemas and their types;
// the fleet, sync and the CLI read these types, the routes these schemas.

import { Type, type Static } from '@sinclair/typebox';
import { stringEnum } from '../model/fields.js';
import { revisionField, timeField } from './common.js';

const nodeSchema = Type.Object({ id: Type.String(), cluster: Type.String() });

export const streamStatusSchema = Type.Object({
  id: Type.Integer(),
  kind: stringEnum(['sotw', 'delta']),
  aggregated: Type.Boolean({ description: 'ADS (true) or one of the per-type discovery services.' }),
  connectedAt: timeField,
});
export type StreamStatus = Static<typeof streamStatusSchema>;

const appliedRevisionField = Type.Union([Type.Integer(), Type.Null()], {
  description: 'Newest revision whose resources the proxy has ACKed for every type it asked for; null when none.',
});

const resourceTypeField = stringEnum(['listeners', 'routes', 'clusters', 'endpoints']);

/** A resource type a proxy rejects now: its last answer of that type was a NACK. */
export const rejectionSchema = Type.Object({
  type: resourceTypeField,
  version: Type.String({ description: 'The rejected version.' }),
  message: Type.String({ description: "Envoy's error detail." }),
  at: timeField,
  services: Type.Array(Type.String(), {
    description: 'The services whose resources of that type differ between what the proxy holds and what it rejected: the suspects (empty when the versions are no longer known).',
  }),
  listeners: Type.Array(Type.String(), { description: 'The listeners likewise.' }),
});
export type Rejection = Static<typeof rejectionSchema>;

const rejectionsField = Type.Array(rejectionSchema, {
  description: "Resource types whose last answer from the proxy was a NACK: Envoy's message and the services and listeners that changed in the rejected version (the suspects).",
});

/** A change a proxy rejected that is held back for it. */
export const heldUnitSchema = Type.Object({
  unit: stringEnum(['service', 'listener']),
  name: Type.String(),
  since: Type.Integer({ description: 'The revision whose change it rejected; it holds the unit as before it.' }),
  type: resourceTypeField,
  message: Type.String({ description: "Envoy's error detail." }),
  at: timeField,
});
export type HeldUnit = Static<typeof heldUnitSchema>;

const heldField = Type.Array(heldUnitSchema, {
  description:
    "Changes this proxy rejected that are held back for it alone: it holds the service or listener as it accepted it (a held service still takes today's weights) and gets every other change; the hold ends when the unit is changed otherwise or the proxy disconnects.",
});

export const nackRecordSchema = Type.Object({ version: Type.String(), message: Type.String(), at: timeField });
export type NackRecord = Static<typeof nackRecordSchema>;

/** Per resource type: what was sent, what the proxy ACKed and its last NACK. */
export const typeStatusSchema = Type.Object({
  sentVersion: Type.Optional(Type.String()),
  sentAt: Type.Optional(timeField),
  ackedVersion: Type.Optional(Type.String()),
  ackedAt: Type.Optional(timeField),
  lastNack: Type.Optional(nackRecordSchema),
});
export type TypeStatus = Static<typeof typeStatusSchema>;

/**
 * Stable codes of the warnings (documented in README's /v1/proxies row):
 * - `duplicate-node-id`: streams of more than one client carry this node id; they are merged into one entry.
 * - `no-listener-selected`: listeners have node selectors and none selects this Envoy's cluster.
 * - `cohort-cookie-affinity`: an Envoy older than 1.36 gets cohort cookies, not hash affinity.
 * - `empty-state-withheld`: the proxy holds configuration and sluice has no service: it is sent nothing.
 */
export const PROXY_WARNING_CODES = ['duplicate-node-id', 'no-listener-selected', 'cohort-cookie-affinity', 'empty-state-withheld'] as const;
export const proxyWarningSchema = Type.Object({
  code: stringEnum(PROXY_WARNING_CODES, { description: 'Stable, e.g. duplicate-node-id, no-listener-selected, cohort-cookie-affinity.' }),
  message: Type.String(),
});
export type ProxyWarning = Static<typeof proxyWarningSchema>;

export const proxyReportSchema = Type.Object({
  node: nodeSchema,
  envoyVersion: Type.String({ description: 'Set only when the client is Envoy.' }),
  userAgent: Type.String(),
  clientVersion: Type.String(),
  versionAffinity: Type.Optional(
    stringEnum(['hash', 'cohort-cookie'], {
      description: 'For Envoys: how key-based version affinity reaches it — use_hash_policy, or for Envoys older than 1.36 the cohort-cookie stand-in.',
    }),
  ),
  streams: Type.Array(streamStatusSchema),
  appliedRevision: appliedRevisionField,
  inSync: Type.Boolean(),
  services: Type.Record(Type.String(), Type.Object({ appliedRevision: appliedRevisionField, inSync: Type.Boolean() }), {
    description:
      'Per service: the newest revision the proxy holds it as of (its listener, routes, clusters and endpoints) and whether that is the current one; resources it rejects of other services and listeners do not hold a service back.',
  }),
  rejected: rejectionsField,
  held: heldField,
  warnings: Type.Array(proxyWarningSchema, { description: 'How the proxy looks misconfigured (empty when it does not), each with a stable code: see the README.' }),
  resources: Type.Record(Type.String(), typeStatusSchema, {
    description: 'Per type (listeners, routes, clusters, endpoints): sent and ACKed versions and the last NACK.',
  }),
});
export type ProxyReport = Static<typeof proxyReportSchema>;

export const proxiesSchema = Type.Object({ proxies: Type.Array(proxyReportSchema) }, { additionalProperties: false });
export type ProxiesAnswer = Static<typeof proxiesSchema>;

export const revisionProxySchema = Type.Object({
  node: nodeSchema,
  replica: Type.Optional(Type.String({ description: 'Set for a proxy connected to another replica.' })),
  streams: Type.Array(Type.Object({ id: Type.Integer(), kind: stringEnum(['sotw', 'delta']), aggregated: Type.Boolean() })),
  appliedRevision: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Newest revision this proxy has fully ACKed (asked for a service: holds that service as of); null while none is known.',
  }),
  applied: Type.Boolean(),
  neverHeld: Type.Optional(
    Type.Literal(true, {
      description:
        'Set when asked about one service and the proxy has never held it (still making its first sync, or never acknowledging): it is not in sync, but complete and rollouts do not wait for it.',
    }),
  ),
  rejected: Type.Optional(rejectionsField),
  held: Type.Optional(heldField),
});
export type RevisionProxy = Static<typeof revisionProxySchema>;

export const revisionReportSchema = Type.Object(
  {
    revision: revisionField,
    service: Type.Optional(
      Type.String({ description: 'Set when asked about one service (?service=): applied then means the proxy holds that service as of the revision or later.' }),
    ),
    current: revisionField,
    complete: Type.Boolean({ description: 'Every connected proxy has applied the revision (asked about one service: every one that has held it before).' }),
    proxies: Type.Array(revisionProxySchema),
    note: Type.Optional(Type.String({ description: 'Set when no proxy is connected (complete is then trivially true).' })),
  },
  { additionalProperties: false },
);
export type RevisionReport = Static<typeof revisionReportSchema>;

export const revisionQuerySchema = Type.Object({
  wait: Type.Optional(
    Type.String({ maxLength: 32, description: 'Wait until every connected proxy has applied the revision, at most this long (e.g. "5s"; at most 60s).' }),
  ),
  service: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'Ask about one service: a proxy has applied the revision when it holds that service as of it or later, whatever it rejects of others.',
    }),
  ),
});

export const DISCOVERY_KINDS = ['ads', 'ads-delta', 'per-type', 'per-type-delta'] as const;
export type DiscoveryKind = (typeof DISCOVERY_KINDS)[number];

export const nodeParamsSchema = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 256, description: "The node's id (node.id in its bootstrap)." }) },
  { additionalProperties: false },
);

export const nodeQuerySchema = Type.Object({
  cluster: Type.Optional(Type.String({ maxLength: 256, description: "The node's cluster (node.cluster), which selects listeners." })),
  kind: Type.Optional(stringEnum(DISCOVERY_KINDS, { description: 'How the node reaches sluice: ADS or the per-type services, state of the world or delta (default ads).' })),
  envoyVersion: Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,4}\\.[0-9]{1,4}(\\.[0-9]{1,4})?$',
      description: 'The Envoy version, e.g. "1.35.2" (older than 1.36: the cohort-cookie stand-in for key-based affinity).',
    }),
  ),
  userAgent: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: 'node.user_agent_name: "envoy" (default), or e.g. "gRPC Go" for a proxyless gRPC client.' }),
  ),
});
/** A node as `/v1/nodes/{id}/resources` is asked about it: its id and what the query says of it. */
export type NodeQuery = Static<typeof nodeQuerySchema> & { id: string };

const perType = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Array>>(schema: T) =>
  Type.Object({ listeners: schema, routes: schema, clusters: schema, endpoints: schema }, { additionalProperties: false });

export const nodeResourcesSchema = Type.Object(
  {
    revision: revisionField,
    node: Type.Object(
      {
        id: Type.String(),
        cluster: Type.String(),
        kind: stringEnum(DISCOVERY_KINDS),
        envoyVersion: Type.String(),
        userAgent: Type.String(),
        connected: Type.Boolean({ description: 'Whether a node with this id is connected; its facts fill in what the query leaves out.' }),
      },
      { additionalProperties: false },
    ),
    group: Type.String({ description: 'The snapshot group the node reads.' }),
    versions: perType(Type.String()),
    resources: perType(Type.Array(Type.Object({}, { description: 'An xDS resource as proto3 JSON.' }))),
  },
  { additionalProperties: false },
);
export type NodeResources = Static<typeof nodeResourcesSchema>;
