// Traffic per service version, read at scrape time: the weight each version has in the desired
// state (`sluice_service_weight`), and the requests and errors the fleet's Envoys reported for its
// cluster over LRS since this process started (`sluice_version_requests_total`,
// `sluice_version_errors_total`). Series exist for exactly the versions in the desired state now:
// a removed version's series disappear with it. Registers in the registry it is given; counts
// nothing itself and changes nothing.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { LoadTotals } from '../fleet/load-stats.js';
import type { DesiredState } from '../model/types.js';
import { clusterName } from '../translate/names.js';

export interface TrafficSources {
  state(): DesiredState;
  /** Requests and errors reported for a cluster since start; never decreasing (LoadStats). */
  loads: { totalsSinceStart(cluster: string): LoadTotals };
}

type VersionLabels = 'service' | 'version';

function* versionsOf(state: DesiredState): Generator<{ service: string; version: string; weight: number }> {
  for (const [service, definition] of Object.entries(state.services)) {
    for (const { name } of definition.versions) yield { service, version: name, weight: definition.weights[name] ?? 0 };
  }
}

/**
 * A counter whose value is read from `read` at scrape time. Reset first, so only the versions in
 * the desired state now have a series; the value itself only grows (LoadStats never forgets), and
 * a version removed and added again continues where it was.
 */
function versionCounter(registry: Registry, name: string, help: string, sources: TrafficSources, read: (totals: LoadTotals) => number): void {
  new Counter<VersionLabels>({
    name,
    help,
    labelNames: ['service', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, version } of versionsOf(sources.state())) {
        this.inc({ service, version }, read(sources.loads.totalsSinceStart(clusterName(service, version))));
      }
    },
  });
}

export function registerTrafficMetrics(registry: Registry, sources: TrafficSources): void {
  new Gauge<VersionLabels>({
    name: 'sluice_service_weight',
    help: 'The weight (percent of the weighted split) of each version of each service in the desired state.',
    labelNames: ['service', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, version, weight } of versionsOf(sources.state())) this.set({ service, version }, weight);
    },
  });
  versionCounter(
    registry,
    'sluice_version_requests_total',
    "Requests completed by a service version's cluster since sluice started, summed over the Envoys reporting load (LRS) to this sluice.",
    sources,
    (totals) => totals.requests,
  );
  versionCounter(
    registry,
    'sluice_version_errors_total',
    "Requests to a service version's cluster that failed (5xx, reset, timeout) since sluice started, summed over the Envoys reporting load (LRS) to this sluice.",
    sources,
    (totals) => totals.errors,
  );
}
