// The field-level JSON Schemas (TypeBox) that the desired state's shapes and the admin API's
// bodies share: names, ports, header and cookie names, hosts, path prefixes, durations, URLs,
// percentages. Their patterns are exported for the error messages that explain them. Shape only.

import { Type, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN } from './duration.js';

/** Service, version and listener names: lowercase DNS-label-like, 1–32 characters. */
export const NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$';
/** A lowercase HTTP header name (RFC 9110 token characters). */
export const HEADER_NAME_PATTERN = "^[a-z0-9!#$%&'*+.^_`|~-]+$";
/** Cookie names: RFC 6265 token characters. */
export const COOKIE_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";
/** A query parameter's name: no whitespace, `&`, `=` or `#`. */
export const QUERY_NAME_PATTERN = '^[^\\s&=#]+$';
/** An Envoy virtual-host domain: "*", or a host with at most one leading or trailing wildcard. */
export const HOST_PATTERN = '^(?:\\*|\\*?[A-Za-z0-9._:\\[\\]-]+|[A-Za-z0-9._:\\[\\]-]+\\*)$';
/** A route prefix: starts with "/", no whitespace. */
export const PREFIX_PATTERN = '^/\\S*$';
export const URL_PATTERN = '^https?://\\S+$';
export const METRIC_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const MAX_VERSIONS = 16;
export const MAX_ENDPOINTS = 256;

export const nameField = Type.String({ pattern: NAME_PATTERN });
export const portField = Type.Integer({ minimum: 1, maximum: 65535 });
export const durationField = Type.String({ maxLength: 32, pattern: DURATION_PATTERN });
export const headerNameField = Type.String({ minLength: 1, maxLength: 128, pattern: HEADER_NAME_PATTERN });
export const cookieNameField = Type.String({ minLength: 1, maxLength: 128, pattern: COOKIE_NAME_PATTERN });
export const queryNameField = Type.String({ minLength: 1, maxLength: 128, pattern: QUERY_NAME_PATTERN });
export const pathPrefixField = Type.String({ minLength: 1, maxLength: 1024, pattern: PREFIX_PATTERN });
export const urlField = Type.String({ maxLength: 2048, pattern: URL_PATTERN });
export const percentField = Type.Number({ minimum: 0, maximum: 100 });
/** ISO 8601 time. */
export const timeField = Type.String({ description: 'ISO 8601 time.' });

/** Percentages per version name. */
export const weightsField = Type.Record(Type.String(), percentField, { propertyNames: nameField, maxProperties: MAX_VERSIONS });

/** A string that is one of `values` (a JSON Schema `enum`, whose errors read better than a union's). */
export function stringEnum<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `schema` with a description or a documented default (a body may leave the field out; normalisation fills it). */
export function annotated<T extends TSchema>(schema: T, notes: { description?: string; default?: unknown }): T {
  return { ...schema, ...notes };
}
