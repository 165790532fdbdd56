// The admin API's contract for `?dryRun=true`: what each node group's proxies would receive
// differently — resources added, removed or changed, with the changed JSON paths — and the view
// that computes it (implemented by sync, wired in by main.ts). TypeBox schemas and their types.

import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { stringEnum } from '../model/fields.js';
import type { DesiredState } from '../model/types.js';
import { optionsOf, revisionField } from './common.js';

/** One differing value at a JSON pointer (into the new resource; into the old one for a removed value). */
export const pathChangeSchema = Type.Object(
  {
    path: Type.String({ description: 'JSON pointer into the resource (an index into the new one, or the old one for a removed value).' }),
    label: Type.String({ description: 'The same place for people: named elements by name, e.g. `routes["predict_split"].route.timeout`.' }),
    old: Type.Optional(Type.Unknown({ description: 'Absent for an added value; a value too long is `{"$truncated": <its JSON length>}`.' })),
    new: Type.Optional(Type.Unknown({ description: 'Absent for a removed value.' })),
    order: Type.Optional(Type.Literal(true, { description: 'The named elements of the array at `path` changed order: `old` and `new` are their names.' })),
  },
  { additionalProperties: false },
);
export type PathChange = Static<typeof pathChangeSchema>;

/** A named thing added, removed or changed, with the changed paths of a changed one (resources here, services and listeners in history.ts). */
export const namedChangeProperties = {
  name: Type.String(),
  change: stringEnum(['added', 'removed', 'changed']),
  paths: Type.Optional(Type.Array(pathChangeSchema, { description: 'For a changed one.' })),
  morePaths: Type.Optional(Type.Integer({ minimum: 1, description: 'Paths left out of `paths` to keep the answer bounded.' })),
};

export const RESOURCE_KINDS = ['listener', 'route', 'cluster', 'endpoints'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const resourceChangeSchema = Type.Object(
  {
    group: Type.String({ description: 'The node group whose proxies would see it (groups receiving the same resources are listed once).' }),
    kind: stringEnum(RESOURCE_KINDS),
    ...namedChangeProperties,
  },
  { additionalProperties: false },
);
export type ResourceChange = Static<typeof resourceChangeSchema>;

/** What a dry run answers (200, whatever the route answers otherwise). */
export const dryRunAnswerSchema = Type.Object(
  {
    dryRun: Type.Literal(true),
    revision: revisionField,
    unchanged: Type.Boolean({ description: 'The change would change nothing.' }),
    changes: Type.Array(resourceChangeSchema),
  },
  { additionalProperties: false },
);
export type DryRunAnswer = Static<typeof dryRunAnswerSchema>;

/** The resource changes between two desired states, for every node group in use. */
export interface DryRunView {
  changes(before: DesiredState, after: DesiredState): ResourceChange[];
}

const dryRunProperties = {
  dryRun: Type.Optional(
    stringEnum(['true', 'false'], {
      description:
        'true: change nothing; validate and refuse exactly as the call would (the same 4xx, If-Match included) and answer 200 with ' +
        '{dryRun: true, revision (the current one), unchanged, changes: [{group, kind, name, change: added|removed|changed, paths: [{path, label, old, new}]}]}: ' +
        "what each node group's proxies would receive differently.",
    }),
  ),
};

/** A route's querystring schema with `dryRun` added. */
export function withDryRun<T extends TProperties>(schema: TObject<T>) {
  return Type.Object({ ...schema.properties, ...dryRunProperties }, optionsOf(schema));
}

export const dryRunQuerySchema = withDryRun(Type.Object({}, { additionalProperties: false }));
export type DryRunQuery = Static<typeof dryRunQuerySchema>;

/** A change's answer schema, or the dry run's answer (both are 200). */
export function orDryRun<T extends TSchema>(answer: T) {
  return Type.Union([answer, dryRunAnswerSchema]);
}
