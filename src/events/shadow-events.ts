// Shadow events for the journal: every 10 seconds, one `shadow` event per service whose shadow
// compared new answers since the last one — its results so far, in figures and in words. Reads
// the shadow results through the contract's ShadowView; changes nothing.

import type { ShadowEvent } from '../api/events.js';
import type { ShadowView } from '../api/shadow.js';
import type { Service } from '../model/types.js';
import type { EventJournal } from './journal.js';

export const SHADOW_EVENT_INTERVAL_MS = 10_000;

export interface ShadowEventsOptions {
  journal: Pick<EventJournal, 'append'>;
  view: ShadowView;
  /** The services of the current desired state. */
  services: () => readonly Service[];
  now?: () => Date;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

export class ShadowEvents {
  /** Per service, the results' start and how many pairs were compared when it last had an event. */
  private readonly told = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ShadowEventsOptions) {}

  start(intervalMs = SHADOW_EVENT_INTERVAL_MS): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Appends an event for each service with newly compared answers. */
  tick(): void {
    const at = (this.options.now?.() ?? new Date()).toISOString();
    for (const service of this.options.services()) {
      const report = this.options.view.report(service);
      if (!report) continue;
      const compared = report.samples + report.incomparable;
      const mark = `${report.since} ${compared}`;
      if (compared === 0 || this.told.get(service.name) === mark) continue;
      this.told.set(service.name, mark);
      const agreement = report.agreement?.rate ?? null;
      const event: ShadowEvent = {
        type: 'shadow',
        at,
        service: service.name,
        to: report.to,
        samples: report.samples,
        agreed: report.agreed,
        disagreed: report.disagreed,
        candidateErrors: report.candidateErrors,
        agreement,
        message:
          agreement === null
            ? `shadow ${report.to}: no answer compared yet (${report.incomparable} incomparable)`
            : `shadow ${report.to}: agreed on ${percent(agreement)} (${report.agreed} of ${report.samples}), ${report.disagreed} disagreed, ${report.candidateErrors} candidate error(s)`,
      };
      this.options.journal.append(event);
    }
  }
}
