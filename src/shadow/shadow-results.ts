// One service's shadow results since its candidate or comparison last changed: counts per
// outcome, the agreement rate with its Wilson score interval, numeric differences, each side's
// latency over its last answers, the last disagreements (first 4 KiB of each answer, or only
// their hashes) and the recent comparisons a rollout's analysis window totals. Bounded whatever
// the load; no I/O, the clock is given.

import { createHash } from 'node:crypto';
import type { ShadowDisagreement, ShadowReport } from '../api/shadow.js';
import type { Shadow, ShadowSide } from '../model/types.js';
import type { ShadowTotals } from '../rollout/analysis.js';
import type { Answer, Comparison } from './compare.js';

const LATENCY_WINDOW = 2048;
/** Comparisons kept for windowed totals (about 2.5 MB per shadowed service once full). */
export const RECENT_COMPARISONS = 100_000;
const DISAGREEMENTS_KEPT = 20;
const ANSWER_TEXT_BYTES = 4096;
/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/** Wilson's score interval for a proportion (successes of n), at 95 %. */
export function wilsonInterval(successes: number, n: number): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** The value at quantile `q` of ascending `sorted` values (the smallest with at least q of them at or below it). */
function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * The last `capacity` compared pairs (agree, disagree or candidate error: the ones a report counts
 * as samples) in a ring: when each was compared, whether it agreed, and both sides' latency.
 */
export class RecentComparisons {
  private at: Float64Array | undefined;
  private agreed: Uint8Array | undefined;
  private userMs: Float64Array | undefined;
  private candidateMs: Float64Array | undefined;
  private size = 0;
  private next = 0;

  constructor(private readonly capacity = RECENT_COMPARISONS) {}

  add(at: number, agreed: boolean, userMs: number, candidateMs: number): void {
    // Allocated at the first comparison: a shadow that never compares costs nothing.
    this.at ??= new Float64Array(this.capacity);
    this.agreed ??= new Uint8Array(this.capacity);
    this.userMs ??= new Float64Array(this.capacity);
    this.candidateMs ??= new Float64Array(this.capacity);
    this.at[this.next] = at;
    this.agreed[this.next] = agreed ? 1 : 0;
    this.userMs[this.next] = userMs;
    this.candidateMs[this.next] = candidateMs;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** The pairs compared at or after `since` (epoch ms) among those kept, newest first until an older one. */
  totalsSince(since: number): ShadowTotals {
    const user: number[] = [];
    const candidate: number[] = [];
    let agreed = 0;
    for (let k = 1; k <= this.size; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      if (this.at![i]! < since) break;
      agreed += this.agreed![i]!;
      user.push(this.userMs![i]!);
      candidate.push(this.candidateMs![i]!);
    }
    const median = (values: number[]): number | null => (values.length === 0 ? null : quantile(values.sort((a, b) => a - b), 0.5));
    return { samples: user.length, agreed, userP50Ms: median(user), candidateP50Ms: median(candidate) };
  }
}

class LatencyWindow {
  private readonly values: number[] = [];
  private next = 0;

  add(ms: number): void {
    if (this.values.length < LATENCY_WINDOW) this.values.push(ms);
    else this.values[this.next] = ms;
    this.next = (this.next + 1) % LATENCY_WINDOW;
  }

  summary(): { samples: number; p50: number | null; p99: number | null } {
    if (this.values.length === 0) return { samples: 0, p50: null, p99: null };
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number): number => Number(quantile(sorted, q).toFixed(3));
    return { samples: sorted.length, p50: at(0.5), p99: at(0.99) };
  }
}

function keptAnswer(answer: Answer, keepText: boolean): ShadowDisagreement['user'] {
  const head = answer.body.subarray(0, ANSWER_TEXT_BYTES);
  const text = head.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(head) && !text.includes('\u0000');
  return {
    status: answer.status,
    ...(answer.grpcStatus !== undefined ? { grpcStatus: answer.grpcStatus } : {}),
    sha256: createHash('sha256').update(answer.body).digest('hex'),
    bytes: answer.body.length,
    ...(keepText ? { text: isText ? text : head.toString('base64'), encoding: isText ? ('utf8' as const) : ('base64' as const) } : {}),
  };
}

/** Identifies what the results are about: new results start when it changes. */
export function resultsKey(shadow: Shadow): string {
  return JSON.stringify([shadow.to, shadow.compare]);
}

export class ShadowResults {
  private agreed = 0;
  private disagreed = 0;
  private candidateErrors = 0;
  private incomparable = 0;
  private servedByCandidate = 0;
  private readonly unpaired: Record<ShadowSide, number> = { user: 0, candidate: 0 };
  private differences = 0;
  private differenceSum = 0;
  private differenceMax = 0;
  private readonly latency: Record<ShadowSide, LatencyWindow> = { user: new LatencyWindow(), candidate: new LatencyWindow() };
  /** The last disagreements as they came (newest first); read into their view only when reported. */
  private readonly disagreements: { requestId: string; at: number; comparison: Extract<Comparison, { outcome: 'disagree' | 'candidate-error' }>; user: Answer; candidate: Answer; keepText: boolean }[] = [];
  private readonly recent = new RecentComparisons();

  constructor(
    readonly key: string,
    private readonly since: number,
  ) {}

  latencyOf(side: ShadowSide, ms: number): void {
    this.latency[side].add(ms);
  }

  copiedFromCandidate(): void {
    this.servedByCandidate += 1;
  }

  lostHalf(side: ShadowSide): void {
    this.unpaired[side] += 1;
  }

  /** One compared pair; `latencyMs` holds each side's latency for this request. */
  compared(
    comparison: Comparison,
    requestId: string,
    at: number,
    user: Answer,
    candidate: Answer,
    keep: Shadow['keep'],
    latencyMs: Record<ShadowSide, number>,
  ): void {
    if (comparison.outcome !== 'incomparable') this.recent.add(at, comparison.outcome === 'agree', latencyMs.user, latencyMs.candidate);
    if ('difference' in comparison && comparison.difference !== undefined) {
      this.differences += 1;
      this.differenceSum += comparison.difference;
      this.differenceMax = Math.max(this.differenceMax, comparison.difference);
    }
    switch (comparison.outcome) {
      case 'agree':
        this.agreed += 1;
        return;
      case 'incomparable':
        this.incomparable += 1;
        return;
      case 'disagree':
        this.disagreed += 1;
        break;
      case 'candidate-error':
        this.candidateErrors += 1;
        break;
    }
    this.disagreements.unshift({ requestId, at, comparison, user, candidate, keepText: keep !== 'hashes' });
    if (this.disagreements.length > DISAGREEMENTS_KEPT) this.disagreements.pop();
  }

  /** The pairs compared since `since` (epoch ms), of the last RECENT_COMPARISONS. */
  totalsSince(since: number): ShadowTotals {
    return this.recent.totalsSince(since);
  }

  report(service: string, shadow: Shadow, active: boolean): Omit<ShadowReport, 'revision'> {
    const samples = this.agreed + this.disagreed + this.candidateErrors;
    const interval = wilsonInterval(this.agreed, samples);
    return {
      service,
      to: shadow.to,
      percent: shadow.percent,
      compare: shadow.compare,
      active,
      since: new Date(this.since).toISOString(),
      samples,
      agreed: this.agreed,
      disagreed: this.disagreed,
      candidateErrors: this.candidateErrors,
      incomparable: this.incomparable,
      servedByCandidate: this.servedByCandidate,
      unpaired: { userOnly: this.unpaired.user, candidateOnly: this.unpaired.candidate },
      agreement: samples === 0 ? null : { rate: this.agreed / samples, low: interval.low, high: interval.high, confidence: 0.95 },
      difference: this.differences === 0 ? null : { mean: this.differenceSum / this.differences, max: this.differenceMax },
      latencyMs: { user: this.latency.user.summary(), candidate: this.latency.candidate.summary() },
      disagreements: this.disagreements.map(({ requestId, at, comparison, user, candidate, keepText }): ShadowDisagreement => ({
        requestId,
        at: new Date(at).toISOString(),
        outcome: comparison.outcome,
        detail: comparison.detail,
        user: keptAnswer(user, keepText),
        candidate: keptAnswer(candidate, keepText),
      })),
    };
  }
}
