// What a previewed change would change in the resources proxies receive: the before and after
// states translated for Envoy's default group and for each connected proxy's group before and after
// the change (listeners' node selectors may move a proxy to another group), each distinct pair of
// translations once, then diffed. Translates only; never builds, caches or sends a snapshot.

import type { DryRunView, ResourceChange } from '../api/dry-run.js';
import type { ProxyStatus } from '../fleet/status.js';
import type { DesiredState } from '../model/types.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import { nodeGroup, parseGroup } from './node-groups.js';
import { nodeGroupOf } from './proxy-report.js';
import { diffResources } from './resource-diff.js';

export class DryRunDiff implements DryRunView {
  /** `proxies`: the connected proxies (the fleet's); Envoy's default group (every listener) is always included. */
  constructor(private readonly proxies: () => readonly ProxyStatus[]) {}

  changes(before: DesiredState, after: DesiredState): ResourceChange[] {
    const moves = new Map<string, [string, string]>([[DEFAULT_GROUP, [DEFAULT_GROUP, DEFAULT_GROUP]]]);
    for (const proxy of this.proxies()) {
      if (proxy.streams.length === 0) continue;
      const was = nodeGroupOf(proxy, (node, transport) => nodeGroup(node, transport, before.listeners));
      const will = nodeGroupOf(proxy, (node, transport) => nodeGroup(node, transport, after.listeners));
      moves.set(was === will ? was : `${was} → ${will}`, [was, will]);
    }
    const translations = new Set<string>();
    return [...moves].flatMap(([label, [was, will]]) => {
      const from = parseGroup(was);
      const to = parseGroup(will);
      const key = from && to && `${from.key(before)}\n\n${to.key(after)}`;
      if (from === undefined || to === undefined || key === undefined || translations.has(key)) return [];
      translations.add(key);
      return diffResources(from.translate(before), to.translate(after)).map((change) => ({ group: label, ...change }));
    });
  }
}
