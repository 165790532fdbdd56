// JSON Schemas of the admin API request bodies and path parameters, with the TypeScript shapes
// they describe. Plain objects usable by fastify/ajv and an OpenAPI document; shape only —
// meaning-level checks (weights sum, references) live in validate.ts. No I/O.

import { DURATION_PATTERN } from './duration.js';
import { DEFAULT_LISTENER_NAME, DEFAULT_PIN_HEADER, DEFAULT_TIMEOUT } from './types.js';
import type { Endpoint, HealthCheck, Mirror, OutlierDetection, PathMatch, Rule, Weights } from './types.js';
import {
  affinitySchema,
  healthCheckSchema,
  mirrorSchema,
  outlierDetectionSchema,
  rulesSchema,
  type AffinityBody,
} from './traffic-policies.js';

/** Service, version and listener names: lowercase DNS-label-like, 1–32 characters. */
export const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$';
/** A lowercase HTTP header name (RFC 9110 token characters). */
export const HEADER_NAME_PATTERN = "^[a-z0-9!#$%&'*+.^_`|~-]+$";
/** An Envoy virtual-host domain: "*", or a host with at most one leading or trailing wildcard. */
export const HOST_PATTERN = '^(?:\\*|\\*?[A-Za-z0-9._:\\[\\]-]+|[A-Za-z0-9._:\\[\\]-]+\\*)$';
/** A route prefix: starts with "/", no whitespace. */
export const PREFIX_PATTERN = '^/\\S*$';
export const DEFAULT_LISTENER_ADDRESS = '0.0.0.0';
export const DEFAULT_HOSTS: readonly string[] = ['*'];
export const MAX_VERSIONS = 16;
export const MAX_ENDPOINTS = 256;

export interface VersionBody {
  name: string;
  endpoints: Endpoint[];
}

/** What a client sends to PUT /v1/services/{name}; normalizeService fills the defaults. */
export interface ServiceBody {
  name?: string;
  listener?: string;
  match: PathMatch;
  hosts?: string[];
  versions: VersionBody[];
  weights?: Weights;
  stable?: string;
  pinHeader?: string;
  timeout?: string;
  affinity?: AffinityBody;
  mirror?: Mirror;
  rules?: Rule[];
  outlierDetection?: Partial<OutlierDetection>;
  healthCheck?: Partial<HealthCheck>;
}

export interface PromoteBody {
  version: string;
}

export interface ListenerBody {
  name?: string;
  address?: string;
  port: number;
  nodes?: { clusters: string[] };
}

const nameSchema = { type: 'string', pattern: NAME_PATTERN } as const;
const portSchema = { type: 'integer', minimum: 1, maximum: 65535 } as const;

const endpointSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['address', 'port'],
  properties: {
    address: { type: 'string', minLength: 1, maxLength: 253 },
    port: portSchema,
  },
} as const;

const versionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'endpoints'],
  properties: {
    name: nameSchema,
    endpoints: { type: 'array', minItems: 1, maxItems: MAX_ENDPOINTS, items: endpointSchema },
  },
} as const;

export const weightsBodySchema = {
  type: 'object',
  propertyNames: nameSchema,
  additionalProperties: { type: 'number', minimum: 0, maximum: 100 },
  maxProperties: MAX_VERSIONS,
} as const;

export const serviceBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['match', 'versions'],
  properties: {
    name: nameSchema,
    listener: { ...nameSchema, default: DEFAULT_LISTENER_NAME },
    match: {
      type: 'object',
      additionalProperties: false,
      required: ['prefix'],
      properties: { prefix: { type: 'string', pattern: PREFIX_PATTERN, maxLength: 1024 } },
    },
    hosts: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 255, pattern: HOST_PATTERN },
      default: DEFAULT_HOSTS,
    },
    versions: { type: 'array', minItems: 1, maxItems: MAX_VERSIONS, items: versionSchema },
    weights: weightsBodySchema,
    stable: nameSchema,
    pinHeader: { type: 'string', maxLength: 128, pattern: HEADER_NAME_PATTERN, default: DEFAULT_PIN_HEADER },
    timeout: { type: 'string', maxLength: 32, pattern: DURATION_PATTERN, default: DEFAULT_TIMEOUT },
    affinity: affinitySchema,
    mirror: mirrorSchema,
    rules: rulesSchema,
    outlierDetection: outlierDetectionSchema,
    healthCheck: healthCheckSchema,
  },
} as const;

export const promoteBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: { version: nameSchema },
} as const;

export const listenerBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['port'],
  properties: {
    name: nameSchema,
    address: { type: 'string', minLength: 1, maxLength: 45, default: DEFAULT_LISTENER_ADDRESS },
    port: portSchema,
    nodes: {
      type: 'object',
      additionalProperties: false,
      required: ['clusters'],
      properties: {
        clusters: { type: 'array', minItems: 1, maxItems: 64, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\s#]+$' } },
      },
    },
  },
} as const;

export const nameParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: nameSchema },
} as const;
