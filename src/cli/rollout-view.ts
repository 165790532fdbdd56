// How the rollout commands read and show a rollout: the inline `--steps` grammar, the screen
// `rollout watch` draws (steps with the current one marked, weights, the hold's time left, each
// metric against its threshold, which proxies applied the step and what they reject, the latest
// decisions), the one-line summary, and the exit code a finished phase means. Pure: no I/O, no clock.

import type { RevisionReport } from '../api/fleet.js';
import type { RolloutAnswer, RolloutSummary } from '../api/rollouts.js';
import { DEFAULT_CONFIDENCE, describeDecision, pointsText, type RolloutBody } from '../model/rollout.js';
import type { RolloutDecision, RolloutMetric, RolloutPhase } from '../model/types.js';
import { EXIT_FAILED, EXIT_OK, usageError, type ExitCode } from './cli-error.js';
import { formatWeights } from './output.js';

/** What `GET /v1/revisions/{n}?service=` says of the proxies that got a step. */
export type StepProxies = Pick<RevisionReport, 'revision' | 'proxies'>;

type StepBody = RolloutBody['steps'][number];

const STEP_RE = /^(\d{1,3}(?:\.\d+)?)(?::(\S+))?$/;
const LATEST_DECISIONS = 5;

/** `10:2m,50:5m,approve,100` → the steps of a rollout body (a weight without a hold leaves it to the server). */
export function parseSteps(text: string): StepBody[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw usageError(`--steps "${text}" has an empty step`);
  return parts.map((part) => {
    if (part === 'approve') return { approve: true };
    const match = STEP_RE.exec(part);
    const weight = Number(match?.[1]);
    if (!match || weight > 100) throw usageError(`--steps: "${part}" is not WEIGHT[:HOLD] (a percentage 0–100, e.g. 10:2m) or "approve"`);
    return match[2] === undefined ? { weight } : { weight, hold: match[2] };
  });
}

/** 0 when it succeeded, 1 when it rolled back or was aborted; undefined while it runs. */
export function exitForPhase(phase: RolloutPhase): ExitCode | undefined {
  if (phase === 'succeeded') return EXIT_OK;
  if (phase === 'rolled-back' || phase === 'aborted') return EXIT_FAILED;
  return undefined;
}

/** `1h2m3s`, `4m05s`, `9s` (whole seconds, rounded up). */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m${String(seconds).padStart(2, '0')}s`;
  if (minutes > 0) return `${minutes}m${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}

function stepText(step: RolloutSummary['steps'][number]): string {
  if ('approve' in step) return 'approve';
  if ('shadow' in step) return `shadow ${step.shadow}% ${step.hold}`;
  return step.hold === undefined || step.hold === '0s' ? `${step.weight}%` : `${step.weight}% ${step.hold}`;
}

/** `10% 2m ✓ | ▶ 50% 5m | approve | 100%`: passed steps ticked, the current one marked. */
export function stepsLine(rollout: RolloutSummary): string {
  return rollout.steps
    .map((step, i) => (i < rollout.step ? `${stepText(step)} ✓` : i === rollout.step && !isOver(rollout) ? `▶ ${stepText(step)}` : stepText(step)))
    .join(' | ');
}

function isOver(rollout: RolloutSummary): boolean {
  return exitForPhase(rollout.phase) !== undefined;
}

/** What is going on now, in a few words: the phase, and for a hold the time left. */
export function phaseText(rollout: RolloutSummary, now: number): string {
  switch (rollout.phase) {
    case 'holding':
      return rollout.holdUntil === undefined ? 'holding' : `holding, ${formatRemaining(Date.parse(rollout.holdUntil) - now)} left`;
    case 'paused':
      return `paused${rollout.reason ? `: ${rollout.reason}` : ''}`;
    case 'awaiting-approval':
      return `awaiting approval (sluice rollout approve ${rollout.service})`;
    case 'rolled-back':
    case 'aborted':
      return `${rollout.phase}${rollout.reason ? `: ${rollout.reason}` : ''}`;
    default:
      return rollout.phase;
  }
}

/** One line per metric of the latest analysis: its value against its threshold and the verdict. */
export function metricLines(rollout: RolloutAnswer): string[] {
  const analysis = [...rollout.timeline].reverse().find((decision) => decision.event === 'analysis');
  if (rollout.analysis.metrics.length === 0) return [];
  if (analysis === undefined) return rollout.analysis.metrics.map((metric) => `${metric.name}: no analysis yet (${threshold(metric)})`);
  return rollout.analysis.metrics.map((metric) => {
    const measured = analysis.measurements?.find((m) => m.metric === metric.name);
    if (measured === undefined) return `${metric.name}: not measured (${threshold(metric)})`;
    const value = measured.value === undefined ? 'no value' : formatValue(metric, measured.value);
    const stable = measured.comparison === undefined ? '' : ` vs ${measured.comparison.stableRequests} to stable`;
    const noun = metric.source === 'shadow' ? 'compared answers' : 'requests';
    const sample = measured.requests === undefined ? '' : `, ${measured.requests} ${noun}${stable}`;
    const why = measured.reason === undefined ? '' : ` — ${measured.reason}`;
    return `${metric.name}: ${value} (${threshold(metric)}${sample}) ${measured.outcome}${why}`;
  });
}

function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}

function formatValue(metric: RolloutMetric, value: number): string {
  if (metric.source === 'fleet' && metric.maxErrorRateIncrease !== undefined) return `${pointsText(value)} points over stable`;
  if (metric.source === 'shadow') return `${percent(value)} agreement`;
  return metric.source === 'fleet' ? percent(value) : String(Number(value.toPrecision(6)));
}

function threshold(metric: RolloutMetric): string {
  if (metric.source === 'fleet' && metric.maxErrorRateIncrease !== undefined) {
    return `at most ${pointsText(metric.maxErrorRateIncrease)} points over stable at ${percent(metric.confidence ?? DEFAULT_CONFIDENCE)}`;
  }
  if (metric.source === 'fleet') return `at most ${percent(metric.maxErrorRate ?? 0)}`;
  if (metric.source === 'shadow') {
    const agreement = metric.minAgreement === undefined ? '' : `agreement at least ${percent(metric.minAgreement)} at ${percent(metric.confidence)}`;
    const latency = metric.maxLatencyRatio === undefined ? '' : `median latency at most ${metric.maxLatencyRatio}× the user's`;
    return [agreement, latency].filter(Boolean).join(' and ');
  }
  const bounds = [metric.min === undefined ? '' : `at least ${metric.min}`, metric.max === undefined ? '' : `at most ${metric.max}`].filter(Boolean);
  return bounds.length > 0 ? bounds.join(' and ') : 'no threshold';
}

/** `3 of 3 proxies applied revision 17`, then one line per proxy that rejects or holds back the step. */
export function proxyLines(stepProxies: StepProxies | undefined): string[] {
  if (stepProxies === undefined) return [];
  const { proxies, revision } = stepProxies;
  if (proxies.length === 0) return [`no proxy connected (revision ${revision})`];
  const applied = proxies.filter((p) => p.applied).length;
  const problems = proxies.flatMap((p) => {
    const name = p.replica === undefined ? p.node.id : `${p.node.id} on ${p.replica}`;
    return [
      ...(p.rejected ?? []).map((r) => `  ${name} rejects ${r.type}: ${r.message.trim()}`),
      ...(p.held ?? []).map((h) => `  ${name} holds back ${h.unit} ${h.name} (rejected ${h.type}: ${h.message.trim()})`),
    ];
  });
  return [`${applied} of ${proxies.length} proxies applied revision ${revision}`, ...problems];
}

function decisionLine(decision: RolloutDecision): string {
  return `${decision.at.slice(11, 19)} ${describeDecision(decision)}${decision.actor === 'rollout' ? '' : ` (by ${decision.actor})`}`;
}

/** The whole screen of `rollout watch` (and of `rollout status SERVICE`). */
export function rolloutScreen(rollout: RolloutAnswer, stepProxies: StepProxies | undefined, now: number): string[] {
  const metrics = metricLines(rollout);
  const proxies = proxyLines(stepProxies);
  return [
    `rollout ${rollout.service}: ${rollout.candidate} (candidate) vs ${rollout.stable} (stable) — ${phaseText(rollout, now)}`,
    `  steps:    ${stepsLine(rollout)}`,
    ...(rollout.weights ? [`  weights:  ${formatWeights(rollout.weights)}`] : []),
    ...(metrics.length > 0 ? ['  analysis:', ...metrics.map((line) => `    ${line}`)] : []),
    ...(proxies.length > 0 ? [`  proxies:  ${proxies[0]}`, ...proxies.slice(1).map((line) => `  ${line}`)] : []),
    '  latest:',
    ...rollout.timeline.slice(-LATEST_DECISIONS).map((decision) => `    ${decisionLine(decision)}`),
  ];
}

/** `green 2/4 holding, 3m12s left` — for tables of services. */
export function rolloutSummary(rollout: RolloutSummary, now: number): string {
  const step = Math.min(rollout.step + 1, rollout.steps.length);
  return `${rollout.candidate} ${step}/${rollout.steps.length} ${phaseText(rollout, now)}`;
}

/** Every decision, for `rollout history`. */
export function historyLines(rollout: Pick<RolloutAnswer, 'timeline'>): string[] {
  return rollout.timeline.map((decision) => `${decision.at} ${describeDecision(decision)} (${decision.actor})`);
}
