// The admin API's request bodies for the desired state (services, listeners, weights, promote)
// and path parameters as JSON Schemas (TypeBox), with the TypeScript types derived from them.
// Shape only — meaning-level checks and defaults (weights sum, references) live in validate.ts
// and traffic-policies.ts. No I/O.

import { Type, type Static } from '@sinclair/typebox';
import {
  annotated,
  cookieNameField,
  durationField,
  headerNameField,
  nameField,
  pathPrefixField,
  portField,
  queryNameField,
  stringEnum,
  weightsField,
} from './fields.js';
import {
  DEFAULT_LISTENER_NAME,
  DEFAULT_PIN_HEADER,
  DEFAULT_TIMEOUT,
  healthCheckSchema,
  hostsField,
  listenerAddressField,
  loadBalancerSchema,
  mirrorSchema,
  shadowSchema,
  nodeSelectorSchema,
  outlierDetectionSchema,
  pathMatchSchema,
  pinHeaderField,
  rulesSchema,
  upstreamProtocolSchema,
  versionsField,
} from './types.js';

export const DEFAULT_LISTENER_ADDRESS = '0.0.0.0';
export const DEFAULT_HOSTS: readonly string[] = ['*'];

const closed = { additionalProperties: false } as const;

/** The affinity a body asks for; normalizeAffinity turns it into an `Affinity` with its defaults. */
export const affinityBodySchema = Type.Object(
  {
    version: Type.Optional(
      Type.Object(
        {
          by: stringEnum(['none', 'header', 'cookie', 'query', 'sourceIp', 'cohortCookie']),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          ttl: Type.Optional(durationField),
        },
        closed,
      ),
    ),
    hash: Type.Optional(
      Type.Array(
        Type.Object(
          {
            header: Type.Optional(headerNameField),
            cookie: Type.Optional(cookieNameField),
            ttl: Type.Optional(durationField),
            path: Type.Optional(pathPrefixField),
            sourceIp: Type.Optional(Type.Literal(true)),
            queryParameter: Type.Optional(queryNameField),
          },
          { ...closed, minProperties: 1 },
        ),
        { maxItems: 8 },
      ),
    ),
    lb: Type.Optional(loadBalancerSchema),
  },
  closed,
);
export type AffinityBody = Static<typeof affinityBodySchema>;

/** What a client sends to PUT /v1/services/{name}; normalizeService fills the defaults. */
export const serviceBodySchema = Type.Object(
  {
    name: Type.Optional(nameField),
    listener: Type.Optional(annotated(nameField, { default: DEFAULT_LISTENER_NAME })),
    match: pathMatchSchema,
    hosts: Type.Optional(annotated(hostsField, { default: DEFAULT_HOSTS })),
    versions: versionsField,
    weights: Type.Optional(weightsField),
    stable: Type.Optional(nameField),
    pinHeader: Type.Optional(annotated(pinHeaderField, { default: DEFAULT_PIN_HEADER })),
    timeout: Type.Optional(annotated(durationField, { default: DEFAULT_TIMEOUT })),
    affinity: Type.Optional(affinityBodySchema),
    mirror: Type.Optional(mirrorSchema),
    shadow: Type.Optional(shadowSchema),
    rules: Type.Optional(rulesSchema),
    outlierDetection: Type.Optional(Type.Partial(outlierDetectionSchema)),
    healthCheck: Type.Optional(Type.Partial(healthCheckSchema)),
    protocol: Type.Optional(upstreamProtocolSchema),
  },
  closed,
);
export type ServiceBody = Static<typeof serviceBodySchema>;

export const weightsBodySchema = weightsField;

export const promoteBodySchema = Type.Object({ version: nameField }, closed);
export type PromoteBody = Static<typeof promoteBodySchema>;

export const listenerBodySchema = Type.Object(
  {
    name: Type.Optional(nameField),
    address: Type.Optional(annotated(listenerAddressField, { default: DEFAULT_LISTENER_ADDRESS })),
    port: portField,
    nodes: Type.Optional(nodeSelectorSchema),
  },
  closed,
);
export type ListenerBody = Static<typeof listenerBodySchema>;

export const nameParamsSchema = Type.Object({ name: nameField }, closed);
