// Counts xDS stream events (responses sent, ACKs, NACKs per resource type) as Prometheus
// counters. One of the stream callbacks next to the fleet status; it only counts and never
// touches streams, snapshots or the fleet.

import { Counter, type Registry } from 'prom-client';
import type { StreamCallbacks } from '../xds/server/callbacks.js';
import { SHORT_TYPE_NAMES, type ResourceTypeUrl } from '../xds/type-urls.js';

function typeCounter(registry: Registry, name: string, help: string): Counter<'type'> {
  const counter = new Counter({ name, help, labelNames: ['type'], registers: [registry] });
  // Every type starts at 0 so that rate() and increase() see the first event.
  for (const type of Object.values(SHORT_TYPE_NAMES)) counter.inc({ type }, 0);
  return counter;
}

export class MetricsCallbacks implements StreamCallbacks {
  private readonly responses: Counter<'type'>;
  private readonly acks: Counter<'type'>;
  private readonly nacks: Counter<'type'>;

  constructor(registry: Registry) {
    this.responses = typeCounter(registry, 'sluice_xds_responses_total', 'xDS discovery responses sent, by resource type.');
    this.acks = typeCounter(registry, 'sluice_xds_acks_total', 'xDS responses ACKed by proxies, by resource type.');
    this.nacks = typeCounter(registry, 'sluice_xds_nacks_total', 'xDS responses NACKed (rejected) by proxies, by resource type.');
  }

  /** Connections are not counted here: the connected-proxies gauge reads the fleet at scrape time. */
  streamOpened(): void {}

  subscribed(): void {}

  responseSent(_streamId: number, typeUrl: ResourceTypeUrl): void {
    this.responses.inc({ type: SHORT_TYPE_NAMES[typeUrl] });
  }

  acked(_streamId: number, typeUrl: ResourceTypeUrl): void {
    this.acks.inc({ type: SHORT_TYPE_NAMES[typeUrl] });
  }

  nacked(_streamId: number, typeUrl: ResourceTypeUrl): void {
    this.nacks.inc({ type: SHORT_TYPE_NAMES[typeUrl] });
  }

  streamClosed(): void {}
}
