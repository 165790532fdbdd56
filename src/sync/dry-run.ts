// What a previewed change would change in the resources proxies receive: the before and after
// states translated for Envoy's default group and every group the reconciler builds (groups that
// select the same listeners counted once, as the reconciler translates them once), then diffed.
// Translates only; never builds, caches or sends a snapshot.

import type { DryRunView, ResourceChange } from '../api/dry-run.js';
import type { DesiredState } from '../model/types.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import { parseGroup } from './node-groups.js';
import { diffResources } from './resource-diff.js';

export class DryRunDiff implements DryRunView {
  /** `groups`: the node groups in use (the reconciler's); Envoy's default group is always included. */
  constructor(private readonly groups: () => string[]) {}

  changes(before: DesiredState, after: DesiredState): ResourceChange[] {
    const translations = new Set<string>();
    return [DEFAULT_GROUP, ...this.groups()].flatMap((group) => {
      const parsed = parseGroup(group);
      const key = parsed && `${parsed.key(before)}\n\n${parsed.key(after)}`;
      if (parsed === undefined || key === undefined || translations.has(key)) return [];
      translations.add(key);
      return diffResources(parsed.translate(before), parsed.translate(after)).map((change) => ({ group, ...change }));
    });
  }
}
