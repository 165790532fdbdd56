// Which of a rollout's decisions are phase changes worth a message, and the messages: one readable,
// Slack-compatible sentence (`text`) plus structured fields. PURE: from the rollout before and
// after a commit to the messages the commit's new decisions make; it neither sends nor reads a
// clock (notifier.ts and webhook-delivery.ts do).

import type { Measurement, Rollout, RolloutDecision, RolloutMetric, RolloutPhase, Weights } from '../model/types.js';
import { DEFAULT_CONFIDENCE, isShadowStep, newDecisions } from '../model/rollout.js';

/** The phase changes that are notified. */
export type NotificationKind = 'started' | 'step-reached' | 'paused' | 'awaiting-approval' | 'rolled-back' | 'succeeded' | 'aborted';

/** A metric that failed the analysis behind a rollback, with the bound it broke. */
export interface FailedMetric {
  metric: string;
  value?: number;
  threshold: {
    maxErrorRate?: number;
    maxErrorRateIncrease?: number;
    confidence?: number;
    max?: number;
    min?: number;
    minAgreement?: number;
    maxLatencyRatio?: number;
  };
  reason?: string;
}

/** The JSON body POSTed to each webhook. */
export interface RolloutNotification {
  /** One sentence (Slack's `text`; `&`, `<` and `>` escaped as Slack asks). */
  text: string;
  kind: NotificationKind;
  service: string;
  candidate: string;
  stable: string;
  /** The phase the rollout entered. */
  phase: RolloutPhase;
  /** Index of the step (as in GET …/rollout; `steps` once past the last) and how many there are. */
  step: number;
  steps: number;
  /** The service's weights this decision set (step reached, rollback, abort by a person, promotion). */
  weights?: Weights;
  reason?: string;
  failedMetrics?: FailedMetric[];
  /** The revision that carried the decision. */
  revision: number;
  /** When it was decided (ISO 8601). */
  at: string;
}

const KIND_OF_EVENT: Partial<Record<RolloutDecision['event'], { kind: NotificationKind; phase: RolloutPhase }>> = {
  started: { kind: 'started', phase: 'progressing' },
  'weights-set': { kind: 'step-reached', phase: 'waiting-for-proxies' },
  paused: { kind: 'paused', phase: 'paused' },
  'awaiting-approval': { kind: 'awaiting-approval', phase: 'awaiting-approval' },
  'rolled-back': { kind: 'rolled-back', phase: 'rolled-back' },
  promoted: { kind: 'succeeded', phase: 'succeeded' },
  aborted: { kind: 'aborted', phase: 'aborted' },
};

/** Slack's three control characters, escaped as its message formatting requires. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function percent(weights: Weights): string {
  return Object.entries(weights)
    .map(([version, weight]) => `${version} ${weight}%`)
    .join(', ');
}

function stepOf(rollout: Rollout, step: number): string {
  return `step ${Math.min(step + 1, rollout.steps.length)} of ${rollout.steps.length}`;
}

function thresholdOf(metric: RolloutMetric | undefined): FailedMetric['threshold'] {
  if (metric === undefined) return {};
  if (metric.source === 'fleet' && metric.maxErrorRateIncrease !== undefined) {
    return { maxErrorRateIncrease: metric.maxErrorRateIncrease, confidence: metric.confidence ?? DEFAULT_CONFIDENCE };
  }
  if (metric.source === 'fleet') return { ...(metric.maxErrorRate === undefined ? {} : { maxErrorRate: metric.maxErrorRate }) };
  if (metric.source === 'shadow') {
    const { minAgreement, maxLatencyRatio, confidence } = metric;
    return { ...(minAgreement === undefined ? {} : { minAgreement, confidence }), ...(maxLatencyRatio === undefined ? {} : { maxLatencyRatio }) };
  }
  return { ...(metric.max === undefined ? {} : { max: metric.max }), ...(metric.min === undefined ? {} : { min: metric.min }) };
}

/** The failed metrics of the last analysis before the decision at `index` (the one that rolled back). */
function failedMetrics(rollout: Rollout, index: number): FailedMetric[] {
  const analysis = rollout.timeline
    .slice(0, index)
    .reverse()
    .find((d) => d.event === 'analysis');
  const failed: Measurement[] = (analysis?.measurements ?? []).filter((m) => m.outcome === 'fail');
  return failed.map((m) => ({
    metric: m.metric,
    ...(m.value === undefined ? {} : { value: m.value }),
    threshold: thresholdOf(rollout.analysis.metrics.find((metric) => metric.name === m.metric)),
    ...(m.reason === undefined ? {} : { reason: m.reason }),
  }));
}

function sentence(rollout: Rollout, kind: NotificationKind, decision: RolloutDecision, failed: FailedMetric[]): string {
  const of = `Rollout of ${rollout.service}`;
  const where = stepOf(rollout, decision.step);
  const why = decision.reason === undefined ? '' : `: ${decision.reason}`;
  switch (kind) {
    case 'started':
      return `${of} started by ${decision.actor}: ${rollout.candidate} replaces ${rollout.stable} in ${rollout.steps.length} step(s).`;
    case 'step-reached': {
      const step = rollout.steps[decision.step];
      const shadow = step !== undefined && isShadowStep(step) ? `, ${step.shadow}% of requests copied to ${rollout.candidate} to compare its answers` : '';
      return `${of} reached ${where}: ${percent(decision.weights ?? {})}${shadow}.`;
    }
    case 'paused':
      return `${of} paused at ${where}${why}.`;
    case 'awaiting-approval':
      return `${of} awaits approval at ${where} (POST /v1/services/${rollout.service}/rollout/approve to go on).`;
    case 'rolled-back': {
      const metrics = failed.map((m) => m.reason ?? `${m.metric} failed`).join('; ');
      return `${of} rolled back at ${where}, all traffic to ${rollout.stable}: ${metrics === '' ? (decision.reason ?? 'analysis failed') : metrics}.`;
    }
    case 'succeeded':
      return `${of} succeeded: ${rollout.candidate} is stable with 100% of traffic.`;
    case 'aborted':
      return decision.weights === undefined
        ? `${of} aborted at ${where}${why}.`
        : `${of} aborted at ${where}, all traffic to ${rollout.stable}${why}.`;
  }
}

/**
 * The messages for the decisions `after` made since `before`, in order; `revision` is the one the
 * commit made (decisions that moved traffic carry their own).
 */
export function notificationsFor(before: Rollout | undefined, after: Rollout, revision: number): RolloutNotification[] {
  const fresh = newDecisions(before, after);
  const offset = after.timeline.length - fresh.length;
  return fresh.flatMap((decision, i): RolloutNotification[] => {
    const notified = KIND_OF_EVENT[decision.event];
    if (notified === undefined) return [];
    const failed = notified.kind === 'rolled-back' ? failedMetrics(after, offset + i) : [];
    return [
      {
        text: slackEscape(sentence(after, notified.kind, decision, failed)),
        kind: notified.kind,
        service: after.service,
        candidate: after.candidate,
        stable: after.stable,
        phase: notified.phase,
        step: decision.step,
        steps: after.steps.length,
        ...(decision.weights === undefined ? {} : { weights: decision.weights }),
        ...(decision.reason === undefined ? {} : { reason: decision.reason }),
        ...(failed.length === 0 ? {} : { failedMetrics: failed }),
        revision: decision.revision ?? revision,
        at: decision.at,
      },
    ];
  });
}
