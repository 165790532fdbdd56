// Pure change functions: each takes a frozen DesiredState and returns the next revision's state
// (revision + 1, deep-frozen), the same state when the change changes nothing, or throws a
// SluiceError and changes nothing. The only place the desired state is transformed, including the
// guardrails that keep a person's change from silently ending a rollout (a rollout's own moves are
// computed by src/rollout's pure transitions); it knows nothing of persistence, HTTP or Envoy.

import { SluiceError } from '../errors.js';
import type { ListenerBody, ServiceBody } from '../model/schema.js';
import {
  checkRollout,
  describeDecision,
  isFinal,
  newRollout,
  TIMELINE_CAP,
  type RolloutBody,
  type RolloutCommand,
  type RolloutNote,
  type RolloutUpdate,
} from '../model/rollout.js';
import type { DesiredState, Listener, Rollout, Service, Shadow, Weights } from '../model/types.js';
import {
  checkListenerPlacement,
  checkServicePlacement,
  completeWeights,
  normalizeListener,
  normalizeService,
  validateState,
} from '../model/validate.js';
import { decide, steer } from '../rollout/transitions.js';

/** Given on a person's change, it may end the service's active rollout instead of being refused. */
export type RolloutOverride = { override?: 'rollout' };

export type Change =
  | ({ kind: 'putService'; name: string; body: ServiceBody } & RolloutOverride)
  | { kind: 'deleteService'; name: string; force?: boolean }
  | ({ kind: 'setWeights'; name: string; weights: Weights } & RolloutOverride)
  | ({ kind: 'promote'; name: string; version: string } & RolloutOverride)
  | { kind: 'rollback'; name: string }
  | { kind: 'putListener'; name: string; body: ListenerBody }
  | { kind: 'deleteListener'; name: string }
  | { kind: 'startRollout'; name: string; body: RolloutBody; at: string; actor: string }
  | { kind: 'steerRollout'; name: string; command: RolloutCommand; at: string; actor: string; reason?: string }
  | ({ kind: 'rolloutUpdate' } & RolloutUpdate)
  | RolloutNote;

/**
 * Back to an earlier revision's listeners and services, as a new revision. Not a `Change`: it
 * needs that revision's stored state, which the store reads and hands to `restoreRevision`.
 */
export interface RestoreRevision {
  kind: 'restoreRevision';
  revision: number;
}

/** Everything the store applies and the audit records. */
export type StoreChange = Change | RestoreRevision;

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Structural equality of JSON-like values: key order and keys holding `undefined` do not count. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  const defined = (o: object) => Object.entries(o).filter(([, v]) => v !== undefined);
  const left = defined(a);
  const right = new Map(defined(b));
  return left.length === right.size && left.every(([k, v]) => right.has(k) && sameValue(v, right.get(k)));
}

/** Whether `after` holds the same listeners, services and rollouts as `before` (the revision aside). */
export function sameState(before: DesiredState, after: DesiredState): boolean {
  return (
    before === after ||
    (sameValue(before.listeners, after.listeners) &&
      sameValue(before.services, after.services) &&
      sameValue(before.rollouts ?? {}, after.rollouts ?? {}))
  );
}

/**
 * Who makes a change and when: the store stamps every change with them, so that a change that
 * ends a rollout records the decision in the rollout's timeline.
 */
export interface ChangeContext {
  at: string;
  actor: string;
}

const UNSTAMPED: ChangeContext = { at: new Date(0).toISOString(), actor: 'admin' };

/** The service's rollout, ended or not (own keys only: a name is never an object's internals). */
function rolloutOf(state: DesiredState, name: string): Rollout | undefined {
  return state.rollouts !== undefined && Object.hasOwn(state.rollouts, name) ? state.rollouts[name] : undefined;
}

/** `update`'s rollout with its decisions appended to `before`'s timeline (the newest TIMELINE_CAP kept). */
function withDecisions(before: Rollout, update: Pick<RolloutUpdate, 'rollout' | 'decisions'>): Rollout {
  return { ...update.rollout, timeline: [...before.timeline, ...update.decisions].slice(-TIMELINE_CAP) };
}

/** `rollout` aborted by a person's change made in `context`, recorded as revision `revision`'s decision. */
function aborted(rollout: Rollout, reason: string, context: ChangeContext, revision: number): Rollout {
  return withDecisions(rollout, decide(rollout, { kind: 'abort', reason }, { now: Date.parse(context.at), actor: context.actor, revision }));
}

/**
 * `service` without the shadow a rollout set on it (`set`), when it still has that one: a shadow
 * a person put in its place since is theirs and stays.
 */
function withoutRolloutShadow(service: Service, set: Shadow | undefined): Service {
  if (set === undefined || !sameValue(service.shadow, set)) return service;
  const { shadow, ...rest } = service;
  return rest;
}

/** `services` with the shadow `rollout` set removed from its service (which may be gone). */
function rolloutShadowRemoved(services: Record<string, Service>, rollout: Rollout): Record<string, Service> {
  const service = Object.hasOwn(services, rollout.service) ? services[rollout.service] : undefined;
  if (service === undefined) return services;
  const after = withoutRolloutShadow(service, rollout.stepShadow);
  return after === service ? services : { ...services, [rollout.service]: after };
}

/** The service's rollout when it is active (in any phase that is not final). */
export function activeRollout(state: DesiredState, name: string): Rollout | undefined {
  const rollout = rolloutOf(state, name);
  return rollout !== undefined && !isFinal(rollout.phase) ? rollout : undefined;
}

/** What an answer says of a rollout that a person's change ended: its candidate, the phase it was in, why it ended. */
export interface EndedRollout {
  candidate: string;
  phase: Rollout['phase'];
  step: number;
  reason: string;
}

/** The rollout of `name` that was active in `before` and has ended in `after`, if any. */
export function endedRollout(before: DesiredState, after: DesiredState, name: string): EndedRollout | undefined {
  const was = activeRollout(before, name);
  if (was === undefined || before === after) return undefined;
  const now = rolloutOf(after, name);
  if (now === undefined || !isFinal(now.phase)) return undefined;
  return { candidate: was.candidate, phase: was.phase, step: was.step, reason: now.reason ?? now.phase };
}

function rolloutInProgress(rollout: Rollout, doing: string): SluiceError {
  const name = rollout.service;
  return new SluiceError(
    'SLUICE_ROLLOUT_IN_PROGRESS',
    `Service "${name}" has an active rollout of "${rollout.candidate}" (${rollout.phase}, step ${rollout.step + 1} of ${rollout.steps.length}); ` +
      `${doing} would abort it. Abort the rollout first (POST /v1/services/${name}/rollout/abort), pause it to keep traffic where it is ` +
      `(POST /v1/services/${name}/rollout/pause), or repeat the request with ?override=rollout to abort the rollout and make this change.`,
  );
}

/**
 * The state with `service` in place of the current one, guarding the service's active rollout:
 * nothing changes when the service is the same; a change that would take the service out of the
 * rollout's hands (`interferes`) is refused unless overridden, and then ends the rollout
 * (phase aborted, no traffic moved by it) in the same revision.
 */
function guardedReplace(
  state: DesiredState,
  service: Service,
  change: { override?: 'rollout'; doing: string; interferes: (rollout: Rollout) => boolean },
  context: ChangeContext,
): DesiredState {
  const current = getService(state, service.name);
  if (sameValue(current, service)) return state;
  const rollout = activeRollout(state, service.name);
  if (rollout === undefined || !change.interferes(rollout)) return replaceService(state, service);
  if (change.override !== 'rollout') throw rolloutInProgress(rollout, change.doing);
  return endRollout(state, { ...state.services, [service.name]: service }, rollout, `${change.doing} by ${context.actor} with override=rollout`, context);
}

/**
 * The next state with `services` and `rollout` ended as aborted, its traffic left as `services`
 * has it but the shadow it set removed.
 */
function endRollout(
  state: DesiredState,
  services: Record<string, Service>,
  rollout: Rollout,
  reason: string,
  context: ChangeContext,
): DesiredState {
  const ended = aborted(rollout, reason, context, state.revision + 1);
  return next(state, { services: rolloutShadowRemoved(services, rollout), rollouts: { ...state.rollouts, [rollout.service]: ended } });
}

function next(
  state: DesiredState,
  parts: { services?: Record<string, Service>; listeners?: Record<string, Listener>; rollouts?: Record<string, Rollout> },
): DesiredState {
  const rollouts = parts.rollouts ?? state.rollouts;
  return deepFreeze({
    revision: state.revision + 1,
    listeners: parts.listeners ?? state.listeners,
    services: parts.services ?? state.services,
    ...(rollouts === undefined ? {} : { rollouts }),
  });
}

function withoutKey<V>(record: Record<string, V>, key: string): Record<string, V> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

export function getService(state: DesiredState, name: string): Service {
  const service = Object.hasOwn(state.services, name) ? state.services[name] : undefined;
  if (service === undefined) throw new SluiceError('SLUICE_SERVICE_NOT_FOUND', `No service is named "${name}".`);
  return service;
}

export function getListener(state: DesiredState, name: string): Listener {
  const listener = Object.hasOwn(state.listeners, name) ? state.listeners[name] : undefined;
  if (listener === undefined) throw new SluiceError('SLUICE_LISTENER_NOT_FOUND', `No listener is named "${name}".`);
  return listener;
}

function replaceService(state: DesiredState, service: Service): DesiredState {
  return next(state, { services: { ...state.services, [service.name]: service } });
}

/** Whether `service` takes the service out of the rollout's hands (see src/rollout/interference.ts). */
function takesOver(rollout: Rollout, before: Service, after: Service): boolean {
  if (!sameValue(before.weights, after.weights) || before.stable !== after.stable) return true;
  return [rollout.candidate, rollout.stable].some((v) => !after.versions.some((version) => version.name === v));
}

/**
 * Defines or replaces a service. During an active rollout, a replacement that changes the weights
 * or the stable version, or removes the candidate or stable version, is refused unless overridden;
 * any other replacement (endpoints, timeout, policies) leaves the rollout running.
 */
export function putService(
  state: DesiredState,
  name: string,
  body: ServiceBody,
  override?: 'rollout',
  context: ChangeContext = UNSTAMPED,
): DesiredState {
  const service = normalizeService(name, body);
  checkServicePlacement(service, state);
  const current = Object.hasOwn(state.services, name) ? state.services[name] : undefined;
  if (current === undefined) return replaceService(state, service);
  const interferes = (rollout: Rollout) => takesOver(rollout, current, service);
  return guardedReplace(state, service, { ...(override ? { override } : {}), doing: `replacing service "${name}"`, interferes }, context);
}

/**
 * Removes a service. One with an active rollout needs `force`, and then the rollout ends
 * (aborted) in the same revision.
 */
export function deleteService(state: DesiredState, name: string, force = false, context: ChangeContext = UNSTAMPED): DesiredState {
  getService(state, name);
  const services = withoutKey(state.services, name);
  const rollout = activeRollout(state, name);
  if (rollout === undefined) return next(state, { services });
  if (!force) {
    throw new SluiceError(
      'SLUICE_DELETE_UNCONFIRMED',
      `Service "${name}" has an active rollout of "${rollout.candidate}" (${rollout.phase}); deleting the service would abort it. ` +
        `Abort the rollout first (POST /v1/services/${name}/rollout/abort), or confirm with DELETE /v1/services/${name}?force=true.`,
    );
  }
  return endRollout(state, services, rollout, `service deleted by ${context.actor} with force=true`, context);
}

/** Sets every version's weight at once; versions not listed get 0. Refused during a rollout unless overridden. */
export function setWeights(
  state: DesiredState,
  name: string,
  weights: Weights,
  override?: 'rollout',
  context: ChangeContext = UNSTAMPED,
): DesiredState {
  const service = getService(state, name);
  const after = { ...service, weights: completeWeights(service.versions, weights, '') };
  return guardedReplace(state, after, { ...(override ? { override } : {}), doing: 'setting weights', interferes: () => true }, context);
}

/** All traffic to `version`, which becomes the stable version. Refused during a rollout unless overridden. */
export function promote(
  state: DesiredState,
  name: string,
  version: string,
  override?: 'rollout',
  context: ChangeContext = UNSTAMPED,
): DesiredState {
  const service = getService(state, name);
  if (!service.versions.some((v) => v.name === version)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `"${version}" is not a version of service "${name}".`, '/version');
  }
  const after = { ...service, stable: version, weights: completeWeights(service.versions, { [version]: 100 }, '') };
  return guardedReplace(state, after, { ...(override ? { override } : {}), doing: `promoting "${version}"`, interferes: () => true }, context);
}

/**
 * All traffic back to the stable version: the emergency brake, never refused. With an active
 * rollout it is the rollout's abort (all traffic to stable, the rollout ended) in one revision.
 */
export function rollback(state: DesiredState, name: string, context: ChangeContext = UNSTAMPED): DesiredState {
  const service = getService(state, name);
  if (activeRollout(state, name) !== undefined) {
    return steerRollout(state, { name, command: 'abort', at: context.at, actor: context.actor, reason: `rolled back by ${context.actor}` });
  }
  return replaceService(state, { ...service, weights: completeWeights(service.versions, { [service.stable]: 100 }, '') });
}

export function putListener(state: DesiredState, name: string, body: ListenerBody): DesiredState {
  const listener = normalizeListener(name, body);
  checkListenerPlacement(listener, state);
  return next(state, { listeners: { ...state.listeners, [name]: listener } });
}

/** Removes a listener no service uses. */
export function deleteListener(state: DesiredState, name: string): DesiredState {
  getListener(state, name);
  const users = Object.values(state.services).filter((s) => s.listener === name).map((s) => s.name);
  if (users.length > 0) {
    throw new SluiceError('SLUICE_LISTENER_IN_USE', `Listener "${name}" is used by service(s) ${users.join(', ')}.`);
  }
  return next(state, { listeners: withoutKey(state.listeners, name) });
}

/**
 * The next revision with `restored`'s listeners and services; it must still be valid. Like
 * rollback it is never refused for a rollout: each active rollout whose service it takes out of
 * the rollout's hands (deleted, other weights or stable version, candidate or stable removed)
 * ends (aborted) in the same revision.
 */
export function restoreRevision(
  state: DesiredState,
  revision: number,
  restored: DesiredState,
  context: ChangeContext = UNSTAMPED,
): DesiredState {
  let after = next(state, { listeners: restored.listeners, services: restored.services });
  try {
    validateState(after);
  } catch (error) {
    if (error instanceof SluiceError) {
      throw new SluiceError(error.code, `Revision ${revision} cannot be restored: ${error.message}`, error.path);
    }
    throw error;
  }
  if (sameState(state, after)) return state;
  for (const name of Object.keys(state.rollouts ?? {})) {
    const rollout = activeRollout(state, name);
    const before = state.services[name];
    if (rollout === undefined || before === undefined) continue;
    const restoredService = Object.hasOwn(after.services, name) ? after.services[name] : undefined;
    if (restoredService !== undefined && !takesOver(rollout, before, restoredService)) continue;
    const ended = aborted(rollout, `revision ${revision} restored by ${context.actor}`, context, after.revision);
    after = deepFreeze({ ...after, services: rolloutShadowRemoved(after.services, rollout), rollouts: { ...after.rollouts, [name]: ended } });
  }
  return after;
}

export function getRollout(state: DesiredState, name: string): Rollout {
  const rollout = rolloutOf(state, name);
  if (rollout === undefined) {
    getService(state, name);
    throw new SluiceError('SLUICE_ROLLOUT_NOT_FOUND', `Service "${name}" has no rollout.`);
  }
  return rollout;
}

function withRollout(state: DesiredState, rollout: Rollout, services?: Record<string, Service>): DesiredState {
  return next(state, { ...(services ? { services } : {}), rollouts: { ...state.rollouts, [rollout.service]: rollout } });
}

/** A new rollout of the service, replacing its last one unless that one is still active. */
export function startRollout(state: DesiredState, name: string, body: RolloutBody, at: string, actor: string): DesiredState {
  const service = getService(state, name);
  const last = rolloutOf(state, name);
  if (last !== undefined && !isFinal(last.phase)) {
    throw new SluiceError(
      'SLUICE_ROLLOUT_ACTIVE',
      `Service "${name}" already has an active rollout of "${last.candidate}" (${last.phase}); abort it or wait until it ends.`,
    );
  }
  return withRollout(state, newRollout(service, body, at, actor));
}

/**
 * Applies one rollout decision: the rollout's new fields, its timeline with the new decisions
 * (capped), the service's new weights and stable version when traffic moves, and the shadow a
 * shadow step sets or the removal of the one it set.
 */
export function updateRollout(state: DesiredState, update: RolloutUpdate): DesiredState {
  const current = getRollout(state, update.name);
  if (isFinal(current.phase)) {
    throw new SluiceError('SLUICE_ROLLOUT_STATE', `The rollout of "${update.name}" has already ended (${current.phase}).`);
  }
  const rollout = withDecisions(current, update);
  checkRollout(update.name, rollout);
  if (update.weights === undefined && update.stable === undefined) {
    return withRollout(state, rollout, update.shadow === null ? rolloutShadowRemoved(state.services, current) : undefined);
  }
  const service = getService(state, update.name);
  const stable = update.stable ?? service.stable;
  if (!service.versions.some((v) => v.name === stable)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `"${stable}" is not a version of service "${update.name}".`, '/stable');
  }
  const weights = completeWeights(service.versions, update.weights ?? service.weights, '/weights');
  const shadowed = update.shadow === undefined ? service : update.shadow === null ? withoutRolloutShadow(service, current.stepShadow) : { ...service, shadow: update.shadow };
  return withRollout(state, rollout, { ...state.services, [service.name]: { ...shadowed, stable, weights } });
}

/**
 * The note appended to the rollout's timeline in any phase, an ended rollout's too; nothing
 * changes when the service's rollout is no longer the one noted (a newer one replaced it).
 */
export function noteRollout(state: DesiredState, note: RolloutNote): DesiredState {
  const rollout = rolloutOf(state, note.name);
  if (rollout === undefined || rollout.startedAt !== note.startedAt) return state;
  return withRollout(state, { ...rollout, timeline: [...rollout.timeline, note.decision].slice(-TIMELINE_CAP) });
}

/** A person's pause, resume, approve or abort (abort sends all traffic to stable at once). */
export function steerRollout(
  state: DesiredState,
  change: { name: string; command: RolloutCommand; at: string; actor: string; reason?: string },
): DesiredState {
  const rollout = getRollout(state, change.name);
  const service = Object.hasOwn(state.services, change.name) ? state.services[change.name] : undefined;
  const context = {
    now: Date.parse(change.at),
    actor: change.actor,
    revision: state.revision + 1,
    ...(change.reason === undefined ? {} : { reason: change.reason }),
    ...(service === undefined ? {} : { service }),
  };
  return updateRollout(state, steer(rollout, change.command, context));
}

/** The next state, or `state` itself when the change changes nothing that a person's check can tell. */
export function applyChange(state: DesiredState, change: Change, context: ChangeContext = UNSTAMPED): DesiredState {
  switch (change.kind) {
    case 'putService':
      return putService(state, change.name, change.body, change.override, context);
    case 'deleteService':
      return deleteService(state, change.name, change.force === true, context);
    case 'setWeights':
      return setWeights(state, change.name, change.weights, change.override, context);
    case 'promote':
      return promote(state, change.name, change.version, change.override, context);
    case 'rollback':
      return rollback(state, change.name, context);
    case 'putListener':
      return putListener(state, change.name, change.body);
    case 'deleteListener':
      return deleteListener(state, change.name);
    case 'startRollout':
      return startRollout(state, change.name, change.body, change.at, change.actor);
    case 'steerRollout':
      return steerRollout(state, change);
    case 'rolloutUpdate':
      return updateRollout(state, change);
    case 'noteRollout':
      return noteRollout(state, change);
  }
}

/** One line for the audit log, e.g. `set weights of predict: blue 90, green 10`. */
export function summarize(change: StoreChange, after: DesiredState): string {
  switch (change.kind) {
    case 'restoreRevision':
      return `restore revision ${change.revision}`;
    case 'putService':
      return `put service ${change.name}`;
    case 'deleteService':
      return `delete service ${change.name}`;
    case 'setWeights':
    case 'promote':
    case 'rollback': {
      const service = getService(after, change.name);
      const weights = Object.entries(service.weights).map(([v, w]) => `${v} ${w}`).join(', ');
      const verb = change.kind === 'setWeights' ? 'set weights of' : change.kind;
      return `${verb} ${change.name} (stable ${service.stable}): ${weights}`;
    }
    case 'putListener':
    case 'deleteListener':
      return `${change.kind === 'putListener' ? 'put' : 'delete'} listener ${change.name}`;
    case 'startRollout':
      return `start rollout of ${change.name}: ${change.body.candidate} in ${change.body.steps.length} step(s)`;
    case 'steerRollout':
      return `${change.command} rollout of ${change.name}${change.reason === undefined ? '' : `: ${change.reason}`}`;
    case 'rolloutUpdate':
      return `rollout of ${change.name}: ${change.decisions.map(describeDecision).join('; ')}`;
    case 'noteRollout':
      return `rollout of ${change.name}: ${describeDecision(change.decision)}`;
  }
}
