// PURE: what differs between two translations of the desired state, per resource (added,
// removed, changed) and, for a changed one, per JSON pointer through `api/json-diff.ts` (named
// arrays such as virtual hosts, routes and weighted clusters matched by name). Reads translations
// only; never translates, builds or sends anything.

import type { ResourceChange, ResourceKind } from '../api/dry-run.js';
import { diffJson, sameJson } from '../api/json-diff.js';
import type { TranslatedResources } from '../translate/resources.js';

const RESOURCE_KINDS = { listeners: 'listener', routes: 'route', clusters: 'cluster', endpoints: 'endpoints' } as const satisfies Record<
  keyof TranslatedResources,
  ResourceKind
>;

/** Every resource that differs, by kind (listeners, routes, clusters, endpoints) and then by name. */
export function diffResources(before: TranslatedResources, after: TranslatedResources): Omit<ResourceChange, 'group'>[] {
  const changes: Omit<ResourceChange, 'group'>[] = [];
  for (const [key, kind] of Object.entries(RESOURCE_KINDS) as [keyof TranslatedResources, ResourceKind][]) {
    const old = new Map(before[key].map((r) => [r.name, r.resource]));
    const now = new Map(after[key].map((r) => [r.name, r.resource]));
    for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
      const previous = old.get(name);
      const next = now.get(name);
      if (previous === undefined && next !== undefined) changes.push({ kind, name, change: 'added' });
      else if (next === undefined && previous !== undefined) changes.push({ kind, name, change: 'removed' });
      else if (!sameJson(previous, next)) {
        changes.push({ kind, name, change: 'changed', ...diffJson(previous, next) });
      }
    }
  }
  return changes;
}
