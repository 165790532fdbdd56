// Output invariants the translator enforces on every call: unique names per kind, every cluster
// a route sends or mirrors to exists, and every weighted split sums to the fixed total. A violation is a
// bug in sluice, never the user's fault, so it throws.

import type { ResourceJson, TranslatedResources } from './resources.js';
import { WEIGHT_TOTAL } from './weights.js';

function assertUniqueNames(kind: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`translate produced two ${kind} named ${name}`);
    seen.add(name);
  }
}

/** Every cluster a route sends to or mirrors to, and its split's weight sum if it splits. */
function routeClusters(route: ResourceJson): { clusters: string[]; weightSum?: number } {
  const action = route['route'] as ResourceJson | undefined;
  if (!action) return { clusters: [] };
  const mirrors = ((action['request_mirror_policies'] as { cluster: string }[] | undefined) ?? []).map((m) => m.cluster);
  if (typeof action['cluster'] === 'string') return { clusters: [action['cluster'], ...mirrors] };
  const weighted = action['weighted_clusters'] as { clusters: { name: string; weight: number }[] } | undefined;
  if (!weighted) return { clusters: mirrors };
  return {
    clusters: [...weighted.clusters.map((c) => c.name), ...mirrors],
    weightSum: weighted.clusters.reduce((sum, c) => sum + c.weight, 0),
  };
}

export function checkResources(resources: TranslatedResources): void {
  assertUniqueNames('listeners', resources.listeners.map((r) => r.name));
  assertUniqueNames('route configurations', resources.routes.map((r) => r.name));
  assertUniqueNames('clusters', resources.clusters.map((r) => r.name));
  assertUniqueNames('endpoint assignments', resources.endpoints.map((r) => r.name));

  const clusters = new Set(resources.clusters.map((r) => r.name));
  for (const { name, resource } of resources.routes) {
    for (const host of resource['virtual_hosts'] as { routes: ResourceJson[] }[]) {
      for (const route of host.routes) {
        const { clusters: referenced, weightSum } = routeClusters(route);
        for (const cluster of referenced) {
          if (!clusters.has(cluster)) throw new Error(`route configuration ${name} references missing cluster ${cluster}`);
        }
        if (weightSum !== undefined && weightSum !== WEIGHT_TOTAL) {
          throw new Error(`route ${String(route['name'])} in ${name} has weights summing to ${weightSum}`);
        }
      }
    }
  }
}
