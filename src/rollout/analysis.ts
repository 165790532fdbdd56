// One analysis of a rollout's candidate: the current step's metrics (shadow metrics at a shadow
// step, the others at a weight step) measured over one window through injected sources, each
// judged pass / fail / inconclusive (too few requests, no value, a source that did not answer,
// samples that cannot tell) and combined (any fail fails; else any inconclusive is inconclusive).
// Writes nothing; the sources are the only I/O.

import type { AnalysisOutcome, Measurement, Rollout, RolloutMetric, ShadowSample } from '../model/types.js';
import { DEFAULT_CONFIDENCE, agreementText, boundsText, latencyText, percentText, pointsText, stepMetrics } from '../model/rollout.js';
import { compareErrorRates, normalQuantile, wilsonInterval, type LoadTotals } from './compare-proportions.js';
import type { AnalysisResult } from './plan.js';

/** How long one Prometheus query or webhook call may take before it counts as inconclusive. */
const QUERY_TIMEOUT_MS = 5_000;

export type { LoadTotals };

/** A service's compared shadow answers over one window, and both sides' median latency over the same requests (null without any). */
export interface ShadowTotals {
  /** Answers compared: agreed, disagreed or failed by the candidate (not those that could not be compared). */
  samples: number;
  agreed: number;
  userP50Ms: number | null;
  candidateP50Ms: number | null;
}

export interface MetricSources {
  /** Completed requests and errors the fleet reported for one version of a service since `since` (epoch ms). */
  fleet(service: string, version: string, since: number): LoadTotals;
  /** The service's shadow comparisons since `since` (epoch ms). */
  shadow(service: string, since: number): ShadowTotals;
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

type ShadowMetric = Extract<RolloutMetric, { source: 'shadow' }>;

/**
 * The candidate's shadow answers over the window: inconclusive below minSamples; otherwise failed
 * when the two-sided Wilson interval (with continuity correction) on the agreement lies wholly
 * below minAgreement or the candidate's median latency is above maxLatencyRatio times the user's,
 * passed when the interval lies wholly at or above minAgreement, else inconclusive.
 */
function shadowMeasurement(rollout: Rollout, metric: ShadowMetric, totals: ShadowTotals): Measurement {
  const { samples, agreed } = totals;
  const minSamples = Math.max(1, metric.minSamples ?? rollout.analysis.minRequests);
  const rule: ShadowSample = {
    agreed,
    confidence: metric.confidence,
    ...(metric.minAgreement === undefined ? {} : { minAgreement: metric.minAgreement }),
    ...(metric.maxLatencyRatio === undefined ? {} : { maxLatencyRatio: metric.maxLatencyRatio }),
  };
  const sample = { requests: samples, ...(samples === 0 ? {} : { value: agreed / samples }) };
  if (samples < minSamples) {
    const reason = `${samples} compared answer(s) from ${rollout.candidate}, fewer than minSamples ${minSamples}`;
    return { metric: metric.name, outcome: 'inconclusive', ...sample, shadow: rule, reason };
  }
  const z = normalQuantile(1 - (1 - metric.confidence) / 2);
  // The interval of any proportion: here the agreeing answers among the samples.
  const [lower, upper] = wilsonInterval({ requests: samples, errors: agreed }, z);
  const judged: ShadowSample = {
    ...rule,
    ...(metric.minAgreement === undefined ? {} : { lower, upper }),
    ...(totals.userP50Ms === null ? {} : { userP50Ms: totals.userP50Ms }),
    ...(totals.candidateP50Ms === null ? {} : { candidateP50Ms: totals.candidateP50Ms }),
  };
  const agreement: AnalysisOutcome =
    metric.minAgreement === undefined ? 'pass' : upper < metric.minAgreement ? 'fail' : lower >= metric.minAgreement ? 'pass' : 'inconclusive';
  const slower =
    metric.maxLatencyRatio !== undefined && judged.userP50Ms !== undefined && judged.candidateP50Ms !== undefined && judged.candidateP50Ms > metric.maxLatencyRatio * judged.userP50Ms;
  const outcome: AnalysisOutcome = agreement === 'fail' || slower ? 'fail' : agreement;
  const why = [agreement === 'pass' ? undefined : agreementText(samples, judged), slower ? latencyText(judged) : undefined].filter((part) => part !== undefined);
  return { metric: metric.name, outcome, ...sample, shadow: judged, ...(outcome === 'pass' ? {} : { reason: why.join('; ') }) };
}

async function measure(rollout: Rollout, metric: RolloutMetric, from: number, sources: MetricSources): Promise<Measurement> {
  if (metric.source === 'fleet') return measureFleet(rollout, metric, from, sources);
  if (metric.source === 'shadow') return shadowMeasurement(rollout, metric, sources.shadow(rollout.service, from));
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

/** Measures the metrics of the rollout's current step over the traffic since `from`, as of `to`. */
export async function runAnalysis(rollout: Rollout, window: { from: number; to: number }, sources: MetricSources): Promise<AnalysisResult> {
  const measurements = await Promise.all(stepMetrics(rollout).map((metric) => measure(rollout, metric, window.from, sources)));
  return { outcome: combine(measurements), measurements, from: window.from, to: window.to };
}
