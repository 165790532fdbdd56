// The shadow collector: takes each answer Envoy reports (ext-proc-service.ts), pairs the user's
// and the candidate's answers to one request (answer-pairs.ts), compares them as the service's
// shadow says (compare.ts) and keeps the results per service (shadow-results.ts), which a
// rollout's shadow metric totals over its window. Reads the desired state through the function it
// is given; changes nothing in it.

import type { ShadowReport, ShadowView } from '../api/shadow.js';
import { activeShadow } from '../model/traffic-policies.js';
import type { Service, Shadow } from '../model/types.js';
import type { ShadowTotals } from '../rollout/analysis.js';
import { AnswerPairs } from './answer-pairs.js';
import { compareAnswers, type Comparison } from './compare.js';
import type { AnswerSink, ObservedAnswer } from './ext-proc-service.js';
import { ShadowResults, resultsKey } from './shadow-results.js';

export interface ShadowCollectorOptions {
  /** The service as the current desired state has it. */
  serviceOf(name: string): Service | undefined;
  now?: () => number;
  /** Told of every comparison, for metrics. */
  onCompared?(service: string, version: string, outcome: Comparison['outcome']): void;
  maxBodyBytes?: number;
  maxPending?: number;
  maxPendingBytes?: number;
  ttlMs?: number;
}

export const SHADOW_LIMITS = { maxBodyBytes: 64 * 1024, maxPending: 10_000, maxPendingBytes: 64 * 1024 * 1024, ttlMs: 30_000 } as const;

export class ShadowCollector implements AnswerSink, ShadowView {
  readonly maxBodyBytes: number;
  private readonly pairs: AnswerPairs;
  private readonly results = new Map<string, ShadowResults>();
  private readonly now: () => number;

  constructor(private readonly options: ShadowCollectorOptions) {
    this.now = options.now ?? Date.now;
    this.maxBodyBytes = options.maxBodyBytes ?? SHADOW_LIMITS.maxBodyBytes;
    this.pairs = new AnswerPairs({
      maxPending: options.maxPending ?? SHADOW_LIMITS.maxPending,
      maxPendingBytes: options.maxPendingBytes ?? SHADOW_LIMITS.maxPendingBytes,
      ttlMs: options.ttlMs ?? SHADOW_LIMITS.ttlMs,
      now: this.now,
    });
  }

  /** Answers waiting for their other half now (for tests of the memory bound). */
  get pending(): { answers: number; bytes: number } {
    return { answers: this.pairs.size, bytes: this.pairs.bytes };
  }

  answered(observed: ObservedAnswer): void {
    const service = this.options.serviceOf(observed.service);
    const shadow = service?.shadow;
    if (!service || !shadow) return;
    const results = this.resultsFor(service.name, shadow);
    if (observed.side === 'candidate' || observed.version !== shadow.to) results.latencyOf(observed.side, observed.latencyMs);
    const { pair, unpaired } = this.pairs.add(observed);
    this.countUnpaired(unpaired);
    if (!pair) return;
    if (pair.user.version === shadow.to) {
      results.copiedFromCandidate();
      return;
    }
    const comparison: Comparison =
      pair.user.truncated || pair.candidate.truncated
        ? { outcome: 'incomparable', detail: `an answer is longer than the ${this.maxBodyBytes} bytes the collector keeps` }
        : compareAnswers(shadow.compare, pair.user.answer, pair.candidate.answer);
    const latencyMs = { user: pair.user.latencyMs, candidate: pair.candidate.latencyMs };
    results.compared(comparison, observed.requestId, this.now(), pair.user.answer, pair.candidate.answer, shadow.keep, latencyMs);
    this.options.onCompared?.(service.name, shadow.to, comparison.outcome);
  }

  report(service: Service): Omit<ShadowReport, 'revision'> | undefined {
    const shadow = service.shadow;
    if (!shadow) return undefined;
    this.countUnpaired(this.pairs.expire());
    return this.resultsFor(service.name, shadow).report(service.name, shadow, activeShadow(service) !== undefined);
  }

  /** The service's compared pairs since `since` (epoch ms), for a rollout's shadow metric; none when it has no results. */
  shadowTotals(service: string, since: number): ShadowTotals {
    return this.results.get(service)?.totalsSince(since) ?? { samples: 0, agreed: 0, userP50Ms: null, candidateP50Ms: null };
  }

  private countUnpaired(unpaired: readonly { service: string; side: ObservedAnswer['side'] }[]): void {
    for (const { service, side } of unpaired) this.results.get(service)?.lostHalf(side);
  }

  /** The service's results, started anew when its candidate or comparison changed. */
  private resultsFor(service: string, shadow: Shadow): ShadowResults {
    const key = resultsKey(shadow);
    const current = this.results.get(service);
    if (current?.key === key) return current;
    const fresh = new ShadowResults(key, this.now());
    this.results.set(service, fresh);
    return fresh;
  }
}
