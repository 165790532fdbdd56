// One analysis of a rollout's candidate: every metric measured over one window through injected
// sources, each judged pass / fail / inconclusive (too few requests, no value, a source that did
// not answer, samples that cannot tell the candidate from the stable version) and combined (any
// fail fails; else any inconclusive is inconclusive). Writes nothing; the sources are the only I/O.

import type { AnalysisOutcome, Measurement, Rollout, RolloutMetric } from '../model/types.js';
import { DEFAULT_CONFIDENCE, boundsText, percentText, pointsText } from '../model/rollout.js';
import { compareErrorRates, type LoadTotals } from './compare-proportions.js';
import type { AnalysisResult } from './plan.js';

/** How long one Prometheus query or webhook call may take before it counts as inconclusive. */
const QUERY_TIMEOUT_MS = 5_000;

export type { LoadTotals };

export interface MetricSources {
  /** Completed requests and errors the fleet reported for one version of a service since `since` (epoch ms). */
  fleet(service: string, version: string, since: number): LoadTotals;
  /** The first sample's value of a Prometheus instant query. */
  prometheus(url: string, query: string, signal: AbortSignal): Promise<number>;
  /** The number a webhook answers. */
  webhook(url: string, signal: AbortSignal): Promise<number>;
}

function bounded(metric: { name: string; max?: number; min?: number }, value: number): Measurement {
  if (!Number.isFinite(value)) return { metric: metric.name, outcome: 'inconclusive', reason: `the value ${value} is not a number` };
  if (metric.max !== undefined && value > metric.max) {
    return { metric: metric.name, outcome: 'fail', value, reason: `${value} is above max ${metric.max}` };
  }
  if (metric.min !== undefined && value < metric.min) {
    return { metric: metric.name, outcome: 'fail', value, reason: `${value} is below min ${metric.min}` };
  }
  return { metric: metric.name, outcome: 'pass', value };
}

type FleetMetric = Extract<RolloutMetric, { source: 'fleet' }>;

function minRequestsOf(rollout: Rollout): number {
  return Math.max(1, rollout.analysis.minRequests);
}

function fleetMeasurement(rollout: Rollout, metric: { name: string; maxErrorRate: number }, totals: LoadTotals): Measurement {
  const { requests, errors } = totals;
  const minRequests = minRequestsOf(rollout);
  if (requests < minRequests) {
    const reason = `${requests} request(s) to ${rollout.candidate}, fewer than minRequests ${minRequests}`;
    return { metric: metric.name, outcome: 'inconclusive', requests, errors, reason };
  }
  const value = errors / requests;
  if (value > metric.maxErrorRate) {
    const reason = `error rate ${value} (${errors} of ${requests}) is above maxErrorRate ${metric.maxErrorRate}`;
    return { metric: metric.name, outcome: 'fail', value, requests, errors, reason };
  }
  return { metric: metric.name, outcome: 'pass', value, requests, errors };
}

function tooFewStable(rollout: Rollout, requests: number, minRequests: number): string {
  if (requests === 0) {
    return `no requests to stable ${rollout.stable} in this window: a relative metric needs traffic on both versions (a step at weight 100 sends stable none)`;
  }
  return `${requests} request(s) to stable ${rollout.stable}, fewer than minRequests ${minRequests}`;
}

/**
 * The candidate's error rate against the stable version's over the same window: inconclusive
 * until both versions served minRequests, then as the comparison's confidence bounds say.
 */
function relativeMeasurement(rollout: Rollout, metric: FleetMetric & { maxErrorRateIncrease: number }, candidate: LoadTotals, stable: LoadTotals): Measurement {
  const maxIncrease = metric.maxErrorRateIncrease;
  const confidence = metric.confidence ?? DEFAULT_CONFIDENCE;
  const sample = { requests: candidate.requests, errors: candidate.errors };
  const rule = { stableRequests: stable.requests, stableErrors: stable.errors, maxIncrease, confidence };
  const minRequests = minRequestsOf(rollout);
  if (candidate.requests < minRequests || stable.requests < minRequests) {
    const reason =
      candidate.requests < minRequests
        ? `${candidate.requests} request(s) to ${rollout.candidate}, fewer than minRequests ${minRequests}`
        : tooFewStable(rollout, stable.requests, minRequests);
    return { metric: metric.name, outcome: 'inconclusive', ...sample, comparison: rule, reason };
  }
  const { increase, lower, upper, verdict } = compareErrorRates(candidate, stable, maxIncrease, confidence);
  const comparison = { ...rule, lower, upper };
  const measurement: Measurement = { metric: metric.name, outcome: verdict, value: increase, ...sample, comparison };
  if (verdict === 'pass') return measurement;
  const rates =
    `error rate ${percentText(candidate.errors / candidate.requests)} (${candidate.errors} of ${candidate.requests}) vs stable ` +
    `${percentText(stable.errors / stable.requests)} (${stable.errors} of ${stable.requests}), ${pointsText(increase)} points`;
  const why =
    verdict === 'fail'
      ? `the increase is ${boundsText(comparison)}: above maxErrorRateIncrease`
      : `the increase is ${boundsText(comparison)}: the samples cannot tell yet whether it is within maxErrorRateIncrease`;
  return { ...measurement, reason: `${rates}; ${why}` };
}

function measureFleet(rollout: Rollout, metric: FleetMetric, from: number, sources: MetricSources): Measurement {
  const candidate = sources.fleet(rollout.service, rollout.candidate, from);
  if (metric.maxErrorRateIncrease !== undefined) {
    const stable = sources.fleet(rollout.service, rollout.stable, from);
    return relativeMeasurement(rollout, { ...metric, maxErrorRateIncrease: metric.maxErrorRateIncrease }, candidate, stable);
  }
  return fleetMeasurement(rollout, { name: metric.name, maxErrorRate: metric.maxErrorRate ?? 0 }, candidate);
}

async function measure(rollout: Rollout, metric: RolloutMetric, from: number, sources: MetricSources): Promise<Measurement> {
  if (metric.source === 'fleet') return measureFleet(rollout, metric, from, sources);
  try {
    const signal = AbortSignal.timeout(QUERY_TIMEOUT_MS);
    const value =
      metric.source === 'prometheus' ? await sources.prometheus(metric.url, metric.query, signal) : await sources.webhook(metric.url, signal);
    return bounded(metric, value);
  } catch (error) {
    const reason = `${metric.source} gave no value: ${error instanceof Error ? error.message : String(error)}`;
    return { metric: metric.name, outcome: 'inconclusive', reason };
  }
}

function combine(measurements: readonly Measurement[]): AnalysisOutcome {
  if (measurements.some((m) => m.outcome === 'fail')) return 'fail';
  if (measurements.some((m) => m.outcome === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

/** Measures every metric of the rollout over the traffic since `from`, as of `to`. */
export async function runAnalysis(rollout: Rollout, window: { from: number; to: number }, sources: MetricSources): Promise<AnalysisResult> {
  const measurements = await Promise.all(rollout.analysis.metrics.map((metric) => measure(rollout, metric, window.from, sources)));
  return { outcome: combine(measurements), measurements, from: window.from, to: window.to };
}
