// What the xDS port refuses and what load reporting drops, read at scrape time: streams refused
// per limit (`sluice_xds_streams_refused_total{limit}`), load reports dropped per reason
// (`sluice_load_reports_dropped_total{reason}`) and the load samples kept now
// (`sluice_load_samples`). Registers in the registry it is given; counts nothing itself.

import { Counter, Gauge, type Registry } from 'prom-client';

export interface XdsGuardSources {
  /** Streams refused so far per limit (the xDS server's stream limits); every limit listed. */
  refusals(): ReadonlyMap<string, number>;
  /** Load reports dropped so far per reason (LoadStats); every reason listed. */
  droppedReports(): ReadonlyMap<string, number>;
  keptSamples(): number;
}

/** A counter whose value is read from `read` at scrape time (the source only grows). */
function readCounter(registry: Registry, name: string, help: string, label: string, read: () => ReadonlyMap<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, count] of read()) this.inc({ [label]: value }, count);
    },
  });
}

export function registerXdsGuardMetrics(registry: Registry, sources: XdsGuardSources): void {
  readCounter(
    registry,
    'sluice_xds_streams_refused_total',
    'xDS and load reporting streams ended for going past a limit of the xDS port, by limit.',
    'limit',
    () => sources.refusals(),
  );
  readCounter(
    registry,
    'sluice_load_reports_dropped_total',
    'Per-cluster load reports not kept: a cluster sluice does not serve to the reporting proxy (reports claiming traffic only), the proxy or the total past its bound (an older report forgotten early), by reason.',
    'reason',
    () => sources.droppedReports(),
  );
  new Gauge({
    name: 'sluice_load_samples',
    help: 'Load report samples kept now for rollout analysis and the delete guard (bounded per proxy and in all).',
    registers: [registry],
    collect() {
      this.set(sources.keptSamples());
    },
  });
}
