// Shadow events: one per service with newly compared answers at each tick, none when nothing new
// was compared (or the service has no shadow), and again once its results start anew.

import { describe, expect, it } from 'vitest';
import type { ShadowReport, ShadowView } from '../api/shadow.js';
import type { Service } from '../model/types.js';
import type { EventInput } from './journal.js';
import { ShadowEvents } from './shadow-events.js';

type Report = Omit<ShadowReport, 'revision'>;

function report(samples: number, agreed: number, since = '2026-12-04T10:00:00.000Z'): Report {
  return {
    service: 'predict', to: 'green', percent: 20, compare: { kind: 'json-equal' }, active: true, since,
    samples, agreed, disagreed: samples - agreed, candidateErrors: 0, incomparable: 0, servedByCandidate: 0,
    unpaired: { userOnly: 0, candidateOnly: 0 },
    agreement: samples === 0 ? null : { rate: agreed / samples, low: 0, high: 1, confidence: 0.95 },
    difference: null,
    latencyMs: { user: { samples: 0, p50: null, p99: null }, candidate: { samples: 0, p50: null, p99: null } },
    disagreements: [],
  };
}

describe('ShadowEvents', () => {
  it('tells each service once per change of its compared answers', () => {
    const appended: EventInput[] = [];
    let current: Report | undefined = report(0, 0);
    const view: ShadowView = { report: (service) => (service.name === 'predict' ? current : undefined) };
    const services = [{ name: 'predict' }, { name: 'other' }] as Service[];
    const events = new ShadowEvents({ journal: { append: (e) => void appended.push(e) }, view, services: () => services, now: () => new Date(0) });
    events.tick();
    expect(appended).toEqual([]);
    current = report(200, 150);
    events.tick();
    events.tick();
    expect(appended).toEqual([
      {
        type: 'shadow', at: '1970-01-01T00:00:00.000Z', service: 'predict', to: 'green', samples: 200, agreed: 150, disagreed: 50,
        candidateErrors: 0, agreement: 0.75, message: 'shadow green: agreed on 75.0% (150 of 200), 50 disagreed, 0 candidate error(s)',
      },
    ]);
    current = report(200, 150, '2026-12-04T11:00:00.000Z');
    events.tick();
    expect(appended).toHaveLength(2);
  });
});
