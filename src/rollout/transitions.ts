// How a rollout moves: PURE functions from a rollout and a decision (a planned action, or a
// person's pause / resume / approve / abort) to a RolloutUpdate — the rollout after it, the
// decisions for its timeline and, when traffic moves, the service's new weights. They neither
// read a clock nor write anything; the store applies the update as one revision.

import { SluiceError } from '../errors.js';
import { parseDuration } from '../model/duration.js';
import { isFinal, type RolloutCommand, type RolloutUpdate } from '../model/rollout.js';
import type { Rollout, RolloutDecision, Service } from '../model/types.js';
import { msOf, type Action, type AnalysisResult } from './plan.js';

/** When the decision happens, who makes it, and the revision it will be committed as. */
export interface DecisionContext {
  now: number;
  actor: string;
  revision: number;
}

export type Decision = Exclude<Action, { kind: 'nothing' } | { kind: 'analyze' }>;

type Fields = Omit<Rollout, 'timeline'>;

/**
 * A rollout leaving its shadow steps: the fields without the shadow it set, and the update's
 * `shadow: null` that removes it from the service in the same commit (nothing when it set none).
 */
function leaveShadow(fields: Fields): { fields: Fields; change: Pick<RolloutUpdate, 'shadow'> } {
  if (fields.stepShadow === undefined) return { fields, change: {} };
  return { fields: edit(fields, {}, ['stepShadow']), change: { shadow: null } };
}
type HoldField = 'holdStartedAt' | 'holdUntil' | 'windowStart' | 'nextAnalysisAt';
const HOLD_FIELDS: readonly HoldField[] = ['holdStartedAt', 'holdUntil', 'windowStart', 'nextAnalysisAt'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fieldsOf(rollout: Rollout): Fields {
  const { timeline, ...fields } = rollout;
  return fields;
}

/** `fields` with `changes` applied and the listed optional fields removed. */
function edit(fields: Fields, changes: Partial<Fields>, remove: readonly (keyof Fields)[] = []): Fields {
  const next: Partial<Fields> = { ...fields, ...changes };
  for (const key of remove) delete next[key];
  return next as Fields;
}

/** The next analysis: one interval on, but never past the end of the hold while it runs. */
function nextAnalysis(rollout: Pick<Rollout, 'analysis'>, now: number, holdUntil: number): string {
  const after = now + parseDuration(rollout.analysis.interval);
  return iso(now < holdUntil ? Math.min(after, holdUntil) : after);
}

function analysisDecision(fields: Fields, analysis: AnalysisResult, at: string, actor: string): RolloutDecision {
  return {
    at,
    event: 'analysis',
    step: fields.step,
    actor,
    outcome: analysis.outcome,
    window: { from: iso(analysis.from), to: iso(analysis.to) },
    measurements: analysis.measurements,
    failures: fields.failures,
    inconclusive: fields.inconclusive,
  };
}

/** The counters after an analysis; a conclusive one also starts the next window where it ended. */
function counted(fields: Fields, analysis: AnalysisResult): Fields {
  const failures = fields.failures + (analysis.outcome === 'fail' ? 1 : 0);
  const inconclusive = analysis.outcome === 'inconclusive' ? fields.inconclusive + 1 : 0;
  const windowStart = analysis.outcome === 'inconclusive' ? fields.windowStart : iso(analysis.to);
  return edit(fields, { failures, inconclusive, ...(windowStart === undefined ? {} : { windowStart }) });
}

/** All traffic back to `stable` (and no shadow of the rollout's left), the rollout ended in `phase`. */
function endWithRollback(fields: Fields, stable: string, phase: 'rolled-back' | 'aborted', reason: string, ctx: DecisionContext) {
  const weights = { [stable]: 100 };
  const at = iso(ctx.now);
  const left = leaveShadow(fields);
  const rollout = edit(left.fields, { phase, reason, finishedAt: at, stepWeights: weights, stepRevision: ctx.revision }, ['pausedFrom', 'holdRemainingMs']);
  const decision: RolloutDecision = { at, event: phase, step: fields.step, actor: ctx.actor, revision: ctx.revision, weights, reason };
  return { rollout, decision, weights, ...left.change };
}

/** The update a planned action makes. */
export function decide(rollout: Rollout, action: Decision, ctx: DecisionContext): RolloutUpdate {
  const fields = fieldsOf(rollout);
  const at = iso(ctx.now);
  const name = rollout.service;
  const decision = (event: RolloutDecision['event'], extra: Partial<RolloutDecision> = {}): RolloutDecision => ({
    at,
    event,
    step: fields.step,
    actor: ctx.actor,
    ...extra,
  });
  switch (action.kind) {
    case 'set-weights': {
      // A shadow step sets its shadow; a weight step after shadow steps removes theirs.
      const left = action.shadow === undefined ? leaveShadow(fields) : { fields: edit(fields, { stepShadow: action.shadow }), change: { shadow: action.shadow } };
      return {
        name,
        rollout: edit(left.fields, { phase: 'waiting-for-proxies', stepWeights: action.weights, stepRevision: ctx.revision }, HOLD_FIELDS),
        decisions: [decision('weights-set', { revision: ctx.revision, weights: action.weights })],
        weights: action.weights,
        ...left.change,
      };
    }
    case 'start-hold':
      return {
        name,
        rollout: edit(fields, {
          phase: 'holding',
          holdStartedAt: at,
          holdUntil: iso(action.until),
          windowStart: at,
          nextAnalysisAt: nextAnalysis(rollout, ctx.now, action.until),
          inconclusive: 0,
        }),
        decisions: [decision('hold-started', { reason: `hold until ${iso(action.until)}` })],
      };
    case 'record-analysis': {
      const after = edit(counted(fields, action.analysis), { nextAnalysisAt: nextAnalysis(rollout, ctx.now, msOf(rollout.holdUntil)) });
      return { name, rollout: after, decisions: [analysisDecision(after, action.analysis, at, ctx.actor)] };
    }
    case 'advance': {
      const judged = action.analysis === undefined ? fields : counted(fields, action.analysis);
      const decisions = action.analysis === undefined ? [] : [analysisDecision(judged, action.analysis, at, ctx.actor)];
      return {
        name,
        rollout: edit(judged, { phase: 'progressing', step: fields.step + 1 }, HOLD_FIELDS),
        decisions: [...decisions, decision('hold-passed')],
      };
    }
    case 'await-approval': {
      const left = leaveShadow(fields);
      return { name, rollout: edit(left.fields, { phase: 'awaiting-approval' }), decisions: [decision('awaiting-approval')], ...left.change };
    }
    case 'promote': {
      const weights = { [rollout.candidate]: 100 };
      const left = leaveShadow(fields);
      return {
        name,
        rollout: edit(left.fields, { phase: 'succeeded', stepWeights: weights, stepRevision: ctx.revision, finishedAt: at }),
        decisions: [decision('promoted', { revision: ctx.revision, weights })],
        weights,
        stable: rollout.candidate,
        ...left.change,
      };
    }
    case 'roll-back': {
      const judged = counted(fields, action.analysis);
      const { decision: ended, ...update } = endWithRollback(judged, rollout.stable, 'rolled-back', action.reason, ctx);
      return { name, ...update, decisions: [analysisDecision(judged, action.analysis, at, ctx.actor), ended] };
    }
    case 'pause': {
      if (action.analysis === undefined) {
        // The step's wait for the proxies timed out: resuming waits again, with a fresh deadline.
        return {
          name,
          rollout: edit(fields, { phase: 'paused', pausedFrom: rollout.phase, reason: action.reason }, ['holdRemainingMs']),
          decisions: [decision('paused', { reason: action.reason })],
        };
      }
      const judged = counted(fields, action.analysis);
      return {
        name,
        rollout: edit(judged, {
          phase: 'paused',
          pausedFrom: 'holding',
          holdRemainingMs: Math.max(0, msOf(rollout.holdUntil) - ctx.now),
          reason: action.reason,
        }),
        decisions: [analysisDecision(judged, action.analysis, at, ctx.actor), decision('paused', { reason: action.reason })],
      };
    }
    case 'abort': {
      // Someone else took the service: its traffic stays as it is, but not the rollout's shadow.
      const left = leaveShadow(fields);
      return {
        name,
        rollout: edit(left.fields, { phase: 'aborted', reason: action.reason, finishedAt: at }, ['pausedFrom', 'holdRemainingMs']),
        decisions: [decision('aborted', { reason: action.reason })],
        ...left.change,
      };
    }
  }
}

function refuse(rollout: Rollout, message: string): SluiceError {
  return new SluiceError('SLUICE_ROLLOUT_STATE', `The rollout of "${rollout.service}" is ${rollout.phase}: ${message}`);
}

/** The update a person's command makes; SLUICE_ROLLOUT_STATE when the phase does not allow it. */
export function steer(
  rollout: Rollout,
  command: RolloutCommand,
  ctx: DecisionContext & { reason?: string; service?: Service },
): RolloutUpdate {
  if (isFinal(rollout.phase)) throw refuse(rollout, `it has ended; start a new rollout instead of ${command}.`);
  const fields = fieldsOf(rollout);
  const at = iso(ctx.now);
  const name = rollout.service;
  const decision = (event: RolloutDecision['event'], reason?: string): RolloutDecision => ({
    at,
    event,
    step: fields.step,
    actor: ctx.actor,
    ...(reason === undefined ? {} : { reason }),
  });
  switch (command) {
    case 'pause': {
      if (rollout.phase === 'paused') throw refuse(rollout, 'it is already paused.');
      const reason = ctx.reason ?? `paused by ${ctx.actor}`;
      const remaining = rollout.phase === 'holding' ? { holdRemainingMs: Math.max(0, msOf(rollout.holdUntil) - ctx.now) } : {};
      return {
        name,
        rollout: edit(fields, { phase: 'paused', pausedFrom: rollout.phase, reason, ...remaining }),
        decisions: [decision('paused', reason)],
      };
    }
    case 'resume': {
      if (rollout.phase !== 'paused') throw refuse(rollout, 'only a paused rollout can be resumed.');
      const phase = rollout.pausedFrom ?? 'progressing';
      const resumed = edit(fields, { phase }, ['pausedFrom', 'holdRemainingMs', 'reason']);
      if (phase !== 'holding') return { name, rollout: resumed, decisions: [decision('resumed')] };
      const holdUntil = ctx.now + (rollout.holdRemainingMs ?? 0);
      return {
        name,
        rollout: edit(resumed, { holdUntil: iso(holdUntil), windowStart: at, nextAnalysisAt: nextAnalysis(rollout, ctx.now, holdUntil), inconclusive: 0 }),
        decisions: [decision('resumed', `hold until ${iso(holdUntil)}`)],
      };
    }
    case 'approve':
      if (rollout.phase !== 'awaiting-approval') throw refuse(rollout, 'only a rollout at an approval step can be approved.');
      return { name, rollout: edit(fields, { phase: 'progressing', step: fields.step + 1 }), decisions: [decision('approved')] };
    case 'abort': {
      const reason = ctx.reason ?? `aborted by ${ctx.actor}`;
      if (ctx.service === undefined) {
        const left = leaveShadow(fields);
        const rollout = edit(left.fields, { phase: 'aborted', reason, finishedAt: at }, ['pausedFrom', 'holdRemainingMs']);
        return { name, rollout, decisions: [decision('aborted', reason)], ...left.change };
      }
      const { decision: ended, ...update } = endWithRollback(fields, ctx.service.stable, 'aborted', reason, ctx);
      return { name, ...update, decisions: [ended] };
    }
  }
}
