// PURE: what one desired state changed compared with another, per listener, service and rollout
// (added, removed, changed) with the changed JSON paths of a changed one, through the admin API's
// one JSON walk (`api/json-diff.ts`). Reads the two states only; never reads storage or Envoy's
// resources (that is sync's dry run).

import { diffJson, sameJson } from '../api/json-diff.js';
import { STATE_PART_KINDS, type StatePartChange } from '../api/history.js';
import type { DesiredState } from '../model/types.js';

/** What revision 1 is compared with: nothing at all. */
export const EMPTY_STATE: DesiredState = Object.freeze({ revision: 0, listeners: {}, services: {} });

const PARTS = { listener: 'listeners', service: 'services', rollout: 'rollouts' } as const satisfies Record<
  (typeof STATE_PART_KINDS)[number],
  keyof DesiredState
>;

/** Every listener, service and rollout that differs, by kind and then by name. */
export function diffStates(before: DesiredState, after: DesiredState): StatePartChange[] {
  const changes: StatePartChange[] = [];
  for (const kind of STATE_PART_KINDS) {
    const old: Record<string, unknown> = before[PARTS[kind]] ?? {};
    const now: Record<string, unknown> = after[PARTS[kind]] ?? {};
    for (const name of [...new Set([...Object.keys(old), ...Object.keys(now)])].sort()) {
      const previous = old[name];
      const next = now[name];
      if (previous === undefined) changes.push({ kind, name, change: 'added' });
      else if (next === undefined) changes.push({ kind, name, change: 'removed' });
      else if (!sameJson(previous, next)) changes.push({ kind, name, change: 'changed', ...diffJson(previous, next) });
    }
  }
  return changes;
}
