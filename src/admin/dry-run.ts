// `?dryRun=true` on the admin API's changes: the change previewed through the store (the same
// validation, check, If-Match and guardrails, so the same refusals) and answered with what proxies
// would receive differently, from the view AdminDeps gives. Never writes, audits or pushes; knows
// nothing of translation.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DesiredState } from '../model/types.js';
import type { StoreChange } from '../state/changes.js';
import type { Store } from '../state/store.js';
import { applyOptions, withRevision } from './revision-headers.js';

export type ResourceKind = 'listener' | 'route' | 'cluster' | 'endpoints';

/** One differing value at a JSON pointer (into the new resource; into the old one for a removed value). */
export interface PathChange {
  /** JSON pointer into the resource (an index into the new one, or the old one for a removed value). */
  path: string;
  /** The same place for people: named elements by name, e.g. `routes["predict_split"].route.timeout`. */
  label: string;
  /** Absent for an added value; a value too long is `{"$truncated": <its JSON length>}`. */
  old?: unknown;
  /** Absent for a removed value. */
  new?: unknown;
  /** The named elements of the array at `path` changed order: `old` and `new` are their names. */
  order?: true;
}

export interface ResourceChange {
  /** The node group whose proxies would see it (groups receiving the same resources are listed once). */
  group: string;
  kind: ResourceKind;
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** For a changed resource. */
  paths?: PathChange[];
  /** Paths left out of `paths` to keep the answer bounded. */
  morePaths?: number;
}

/** The resource changes between two desired states, for every node group in use. */
export interface DryRunView {
  changes(before: DesiredState, after: DesiredState): ResourceChange[];
}

export interface DryRunQuery {
  dryRun?: 'true' | 'false';
}

const dryRunProperty = {
  dryRun: {
    type: 'string',
    enum: ['true', 'false'],
    description:
      'true: change nothing; validate and refuse exactly as the call would (the same 4xx, If-Match included) and answer 200 with ' +
      '{dryRun: true, revision (the current one), unchanged, changes: [{group, kind, name, change: added|removed|changed, paths: [{path, label, old, new}]}]}: ' +
      "what each node group's proxies would receive differently.",
  },
} as const;

/** A route's querystring schema with `dryRun` added. */
export function withDryRun<T extends { properties: object }>(schema: T) {
  return { ...schema, properties: { ...schema.properties, ...dryRunProperty } };
}

export const dryRunQuerySchema = withDryRun({ type: 'object', additionalProperties: false, properties: {} });

export function isDryRun(request: FastifyRequest<{ Querystring: DryRunQuery }>): boolean {
  return request.query.dryRun === 'true';
}

/** Previews `change` and answers the dry run (200, the current revision); the route's answer schema does not apply. */
export async function answerDryRun(store: Store, view: DryRunView | undefined, request: FastifyRequest, reply: FastifyReply, change: StoreChange) {
  const { state, previous, unchanged } = await store.preview(change, applyOptions(request));
  void reply.status(200).type('application/json').serializer(JSON.stringify);
  const changes = unchanged || view === undefined ? [] : view.changes(previous, state);
  return withRevision(reply, previous.revision, { dryRun: true as const, unchanged, changes });
}
