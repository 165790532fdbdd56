// The rollout's one decision rule: a PURE function from a rollout and what was observed (the time,
// whether the step's revision reached every connected proxy, an analysis result, a change someone
// else made to the service) to the next action. It reads no clock, does no I/O and changes
// nothing; transitions.ts turns an action into the rollout's next state.

import { parseDuration } from '../model/duration.js';
import { isFinal, stepWeights } from '../model/rollout.js';
import type { AnalysisOutcome, Measurement, Rollout, Weights } from '../model/types.js';

/** One analysis: the metrics' verdicts over the traffic between `from` and `to` (epoch ms). */
export interface AnalysisResult {
  outcome: AnalysisOutcome;
  measurements: Measurement[];
  from: number;
  to: number;
}

export interface Observed {
  now: number;
  /** Every connected proxy has applied `rollout.stepRevision`. */
  stepRevisionApplied: boolean;
  /** The analysis asked for by the last `analyze` action, once it has run. */
  analysis?: AnalysisResult;
  /** Why the rollout can no longer steer its service (changed or removed by someone else). */
  interference?: string;
}

export type Action =
  | { kind: 'nothing'; until?: number }
  | { kind: 'set-weights'; step: number; weights: Weights }
  | { kind: 'start-hold'; step: number; until: number }
  | { kind: 'analyze'; from: number; to: number }
  | { kind: 'record-analysis'; analysis: AnalysisResult }
  | { kind: 'advance'; analysis?: AnalysisResult }
  | { kind: 'await-approval'; step: number }
  | { kind: 'promote' }
  | { kind: 'roll-back'; reason: string; analysis: AnalysisResult }
  | { kind: 'pause'; reason: string; analysis: AnalysisResult }
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
 * A hold passes once its time is up and, when there are metrics, an analysis at or after that
 * time passes; analyses run at `nextAnalysisAt` (every interval, and once when the hold ends).
 */
function planHold(rollout: Rollout, observed: Observed): Action {
  const { now } = observed;
  if (observed.analysis !== undefined) return judge(rollout, observed.analysis, now);
  const holdUntil = msOf(rollout.holdUntil);
  if (rollout.analysis.metrics.length === 0) return now >= holdUntil ? { kind: 'advance' } : { kind: 'nothing', until: holdUntil };
  const due = msOf(rollout.nextAnalysisAt);
  if (now >= due) return { kind: 'analyze', from: msOf(rollout.windowStart), to: now };
  return { kind: 'nothing', until: due };
}

export function plan(rollout: Rollout, observed: Observed): Action {
  if (isFinal(rollout.phase)) return { kind: 'nothing' };
  if (observed.interference !== undefined) return { kind: 'abort', reason: observed.interference };
  switch (rollout.phase) {
    case 'progressing': {
      const step = rollout.steps[rollout.step];
      if (step === undefined) return { kind: 'promote' };
      if ('approve' in step) return { kind: 'await-approval', step: rollout.step };
      return { kind: 'set-weights', step: rollout.step, weights: stepWeights(rollout, step.weight) };
    }
    case 'waiting-for-proxies': {
      const step = rollout.steps[rollout.step];
      if (!observed.stepRevisionApplied || step === undefined || 'approve' in step) return { kind: 'nothing' };
      return { kind: 'start-hold', step: rollout.step, until: observed.now + parseDuration(step.hold) };
    }
    case 'holding':
      return planHold(rollout, observed);
    default:
      // awaiting-approval and paused wait for a person.
      return { kind: 'nothing' };
  }
}
