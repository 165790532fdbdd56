// The rollout's one decision rule: a PURE function from a rollout and what was observed (the time,
// whether the step's revision reached every connected proxy and which proxies it has not, an
// analysis result, a change someone else made to the service) to the next action. It reads no clock, does no I/O and changes
// nothing; transitions.ts turns an action into the rollout's next state.

import { parseDuration } from '../model/duration.js';
import { DEFAULT_PROXY_TIMEOUT, isFinal, isShadowStep, proxyTimeoutMs, shadowOfStep, stepMetrics, stepWeights } from '../model/rollout.js';
import type { AnalysisOutcome, Measurement, Rollout, Shadow, Weights } from '../model/types.js';

/** One analysis: the metrics' verdicts over the traffic between `from` and `to` (epoch ms). */
export interface AnalysisResult {
  outcome: AnalysisOutcome;
  measurements: Measurement[];
  from: number;
  to: number;
}

/** A connected proxy that has not applied a revision, and its last NACK's message if it has one. */
export interface PendingProxy {
  node: string;
  nack?: string;
}

export interface Observed {
  now: number;
  /** Every connected proxy has applied `rollout.stepRevision`. */
  stepRevisionApplied: boolean;
  /** The connected proxies that have not applied `rollout.stepRevision` (read while waiting for them). */
  pendingProxies?: PendingProxy[];
  /** The analysis asked for by the last `analyze` action, once it has run. */
  analysis?: AnalysisResult;
  /** Why the rollout can no longer steer its service (changed or removed by someone else). */
  interference?: string;
}

export type Action =
  | { kind: 'nothing'; until?: number }
  | { kind: 'set-weights'; step: number; weights: Weights; shadow?: Shadow }
  | { kind: 'start-hold'; step: number; until: number }
  | { kind: 'analyze'; from: number; to: number }
  | { kind: 'record-analysis'; analysis: AnalysisResult }
  | { kind: 'advance'; analysis?: AnalysisResult }
  | { kind: 'await-approval'; step: number }
  | { kind: 'promote' }
  | { kind: 'roll-back'; reason: string; analysis: AnalysisResult }
  | { kind: 'pause'; reason: string; analysis?: AnalysisResult }
  | { kind: 'abort'; reason: string };

/** Epoch ms of a stored ISO time; a missing one counts as the distant past. */
export function msOf(time: string | undefined): number {
  return time === undefined ? 0 : Date.parse(time);
}

function verdicts(analysis: AnalysisResult, outcome: AnalysisOutcome): string {
  return analysis.measurements
    .filter((m) => m.outcome === outcome)
    .map((m) => `${m.metric}: ${m.reason ?? m.outcome}`)
    .join('; ');
}

/** What an analysis that has run means for a holding rollout. */
function judge(rollout: Rollout, analysis: AnalysisResult, now: number): Action {
  const { failureLimit, inconclusiveLimit } = rollout.analysis;
  if (analysis.outcome === 'fail' && rollout.failures + 1 > failureLimit) {
    const reason = `analysis failed ${rollout.failures + 1} time(s), more than failureLimit ${failureLimit}: ${verdicts(analysis, 'fail')}`;
    return { kind: 'roll-back', reason, analysis };
  }
  if (analysis.outcome === 'inconclusive' && rollout.inconclusive + 1 > inconclusiveLimit) {
    const reason =
      `${rollout.inconclusive + 1} inconclusive analyses in a row, more than inconclusiveLimit ${inconclusiveLimit}: ` +
      verdicts(analysis, 'inconclusive');
    return { kind: 'pause', reason, analysis };
  }
  if (analysis.outcome === 'pass' && now >= msOf(rollout.holdUntil)) return { kind: 'advance', analysis };
  return { kind: 'record-analysis', analysis };
}

/**
 * A hold passes once its time is up and, when the step has metrics (shadow metrics at a shadow
 * step, the others at a weight step), an analysis at or after that time passes; analyses run at
 * `nextAnalysisAt` (every interval, and once when the hold ends).
 */
function planHold(rollout: Rollout, observed: Observed): Action {
  const { now } = observed;
  if (observed.analysis !== undefined) return judge(rollout, observed.analysis, now);
  const holdUntil = msOf(rollout.holdUntil);
  if (stepMetrics(rollout).length === 0) return now >= holdUntil ? { kind: 'advance' } : { kind: 'nothing', until: holdUntil };
  const due = msOf(rollout.nextAnalysisAt);
  if (now >= due) return { kind: 'analyze', from: msOf(rollout.windowStart), to: now };
  return { kind: 'nothing', until: due };
}

/**
 * When the wait for the proxies began: the decision that entered `waiting-for-proxies` (weights
 * set, or a resume) is the latest in the timeline, as nothing else is decided while waiting — a
 * failed notification recorded meanwhile aside.
 */
function waitingSince(rollout: Rollout): number {
  for (let i = rollout.timeline.length - 1; i >= 0; i--) {
    const decision = rollout.timeline[i]!;
    if (decision.event !== 'notification-failed') return msOf(decision.at);
  }
  return 0;
}

function describePending(rollout: Rollout, pending: PendingProxy[]): string {
  const waited = `revision ${rollout.stepRevision} of step ${rollout.step} was not applied within proxyTimeout ${rollout.proxyTimeout ?? DEFAULT_PROXY_TIMEOUT}`;
  if (pending.length === 0) return waited;
  const proxies = pending.map((p) => (p.nack === undefined ? `"${p.node}"` : `"${p.node}" (last NACK: ${p.nack})`));
  return `${waited} by ${pending.length} proxy(ies): ${proxies.join('; ')}`;
}

/** Hold once every connected proxy applied the step; pause for a person once proxyTimeout passed without. */
function planWait(rollout: Rollout, observed: Observed): Action {
  const step = rollout.steps[rollout.step];
  if (step === undefined || 'approve' in step) return { kind: 'nothing' };
  if (observed.stepRevisionApplied) return { kind: 'start-hold', step: rollout.step, until: observed.now + parseDuration(step.hold) };
  const deadline = waitingSince(rollout) + proxyTimeoutMs(rollout);
  if (observed.now < deadline) return { kind: 'nothing', until: deadline };
  return { kind: 'pause', reason: describePending(rollout, observed.pendingProxies ?? []) };
}

export function plan(rollout: Rollout, observed: Observed): Action {
  if (isFinal(rollout.phase)) return { kind: 'nothing' };
  if (observed.interference !== undefined) return { kind: 'abort', reason: observed.interference };
  switch (rollout.phase) {
    case 'progressing': {
      const step = rollout.steps[rollout.step];
      if (step === undefined) return { kind: 'promote' };
      if ('approve' in step) return { kind: 'await-approval', step: rollout.step };
      // A shadow step: every user on stable, a share of their requests copied to the candidate.
      if (isShadowStep(step)) return { kind: 'set-weights', step: rollout.step, weights: stepWeights(rollout, 0), shadow: shadowOfStep(rollout, step.shadow) };
      return { kind: 'set-weights', step: rollout.step, weights: stepWeights(rollout, step.weight) };
    }
    case 'waiting-for-proxies':
      return planWait(rollout, observed);
    case 'holding':
      return planHold(rollout, observed);
    default:
      // awaiting-approval and paused wait for a person.
      return { kind: 'nothing' };
  }
}
