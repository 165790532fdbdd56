// The admin API's contract, shared parts: the error shape every refusal has, the revision every
// answer carries, the path and query parameters several routes take (names, revisions, paging,
// dry runs), and the helpers that wrap an answer's schema. TypeBox schemas and the types derived
// from them; imports only the model's field schemas and the error catalogue. No behaviour.

import { Type, type ObjectOptions, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { ERROR_CATALOG } from '../errors.js';
import { nameField, stringEnum } from '../model/fields.js';

export const revisionField = Type.Integer({ minimum: 0, description: 'The desired-state revision.' });
export { timeField } from '../model/fields.js';

export const errorSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: stringEnum(Object.keys(ERROR_CATALOG) as (keyof typeof ERROR_CATALOG)[], { description: 'Stable code; see docs/errors.md.' }),
        message: Type.String(),
        path: Type.Optional(Type.String({ description: 'JSON pointer of the offending field, when one is to blame.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
/** Every refusal's body. */
export type ErrorBody = Static<typeof errorSchema>;

/** A route's response schemas: its answers, and the error shape for every 4xx and 5xx. */
export function responses<T extends Record<number, TSchema | object>>(answers: T) {
  return {
    ...answers,
    '4xx': { ...errorSchema, description: 'Refused; nothing changed. The codes are listed in docs/errors.md.' },
    '5xx': { ...errorSchema, description: 'sluice failed (SLUICE_INTERNAL) or is not ready (SLUICE_NOT_READY).' },
  };
}

/** `{revision, ...}` for an object schema. */
export function revisioned<T extends TProperties>(schema: TObject<T>) {
  return Type.Object({ revision: revisionField, ...schema.properties }, optionsOf(schema));
}

/** An object schema's own options (closed or open, its description), for a schema built from its properties. */
export function optionsOf(schema: ObjectOptions): ObjectOptions {
  return {
    ...(schema.additionalProperties === undefined ? {} : { additionalProperties: schema.additionalProperties }),
    ...(schema.description === undefined ? {} : { description: schema.description }),
  };
}

export const unchangedField = Type.Literal(true, {
  description: 'Present when the change changed nothing: no revision, audit entry or push was made; `revision` is the current one.',
});

export const statusSchema = Type.Object({ status: Type.String() }, { additionalProperties: false });

export const nameParamsSchema = Type.Object({ name: nameField }, { additionalProperties: false });

/**
 * Whole-number path and query parameters (revisions, limits): the admin API's validator never
 * coerces types, so their schema is a string of digits (admin/whole-numbers.ts reads them).
 */
export const WHOLE_NUMBER_PATTERN = '^[0-9]{1,15}$';
export function wholeNumberField(description: string) {
  return Type.String({ pattern: WHOLE_NUMBER_PATTERN, description });
}

/** A revision number in a path: 1 or more. */
export const revisionParamsSchema = Type.Object({ revision: wholeNumberField('A revision number (1 or more).') }, { additionalProperties: false });

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;
/** `?limit=` and `?before=<revision>` of newest-first lists keyed by revision. */
export const pagingQuerySchema = Type.Object({
  limit: Type.Optional(wholeNumberField(`How many entries, from 1 to ${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}).`)),
  before: Type.Optional(wholeNumberField('Only entries of revisions lower than this one.')),
});
export type PagingQuery = Static<typeof pagingQuerySchema>;
