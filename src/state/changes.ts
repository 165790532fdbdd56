// Pure change functions: each takes a frozen DesiredState and returns the next revision's state
// (revision + 1, deep-frozen) or throws a SluiceError and changes nothing. The only place the
// desired state is transformed (a rollout's moves are computed by src/rollout's pure transitions);
// it knows nothing of persistence, HTTP or Envoy.

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
  type RolloutUpdate,
} from '../model/rollout.js';
import type { DesiredState, Listener, Rollout, Service, Weights } from '../model/types.js';
import {
  checkListenerPlacement,
  checkServicePlacement,
  completeWeights,
  normalizeListener,
  normalizeService,
  validateState,
} from '../model/validate.js';
import { steer } from '../rollout/transitions.js';

export type Change =
  | { kind: 'putService'; name: string; body: ServiceBody }
  | { kind: 'deleteService'; name: string }
  | { kind: 'setWeights'; name: string; weights: Weights }
  | { kind: 'promote'; name: string; version: string }
  | { kind: 'rollback'; name: string }
  | { kind: 'putListener'; name: string; body: ListenerBody }
  | { kind: 'deleteListener'; name: string }
  | { kind: 'startRollout'; name: string; body: RolloutBody; at: string; actor: string }
  | { kind: 'steerRollout'; name: string; command: RolloutCommand; at: string; actor: string; reason?: string }
  | ({ kind: 'rolloutUpdate' } & RolloutUpdate);

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

export function putService(state: DesiredState, name: string, body: ServiceBody): DesiredState {
  const service = normalizeService(name, body);
  checkServicePlacement(service, state);
  return replaceService(state, service);
}

export function deleteService(state: DesiredState, name: string): DesiredState {
  getService(state, name);
  return next(state, { services: withoutKey(state.services, name) });
}

/** Sets every version's weight at once; versions not listed get 0. */
export function setWeights(state: DesiredState, name: string, weights: Weights): DesiredState {
  const service = getService(state, name);
  return replaceService(state, { ...service, weights: completeWeights(service.versions, weights, '') });
}

/** All traffic to `version`, which becomes the stable version. */
export function promote(state: DesiredState, name: string, version: string): DesiredState {
  const service = getService(state, name);
  if (!service.versions.some((v) => v.name === version)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `"${version}" is not a version of service "${name}".`, '/version');
  }
  return replaceService(state, { ...service, stable: version, weights: completeWeights(service.versions, { [version]: 100 }, '') });
}

/** All traffic back to the stable version. */
export function rollback(state: DesiredState, name: string): DesiredState {
  const service = getService(state, name);
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

/** The next revision with `restored`'s listeners and services; it must still be valid. */
export function restoreRevision(state: DesiredState, revision: number, restored: DesiredState): DesiredState {
  const after = next(state, { listeners: restored.listeners, services: restored.services });
  try {
    validateState(after);
  } catch (error) {
    if (error instanceof SluiceError) {
      throw new SluiceError(error.code, `Revision ${revision} cannot be restored: ${error.message}`, error.path);
    }
    throw error;
  }
  return after;
}

export function getRollout(state: DesiredState, name: string): Rollout {
  const rollout = state.rollouts !== undefined && Object.hasOwn(state.rollouts, name) ? state.rollouts[name] : undefined;
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
  const last = state.rollouts !== undefined && Object.hasOwn(state.rollouts, name) ? state.rollouts[name] : undefined;
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
 * (capped), and the service's new weights and stable version when traffic moves.
 */
export function updateRollout(state: DesiredState, update: RolloutUpdate): DesiredState {
  const current = getRollout(state, update.name);
  if (isFinal(current.phase)) {
    throw new SluiceError('SLUICE_ROLLOUT_STATE', `The rollout of "${update.name}" has already ended (${current.phase}).`);
  }
  const rollout: Rollout = { ...update.rollout, timeline: [...current.timeline, ...update.decisions].slice(-TIMELINE_CAP) };
  checkRollout(update.name, rollout);
  if (update.weights === undefined && update.stable === undefined) return withRollout(state, rollout);
  const service = getService(state, update.name);
  const stable = update.stable ?? service.stable;
  if (!service.versions.some((v) => v.name === stable)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `"${stable}" is not a version of service "${update.name}".`, '/stable');
  }
  const weights = completeWeights(service.versions, update.weights ?? service.weights, '/weights');
  return withRollout(state, rollout, { ...state.services, [service.name]: { ...service, stable, weights } });
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

export function applyChange(state: DesiredState, change: Change): DesiredState {
  switch (change.kind) {
    case 'putService':
      return putService(state, change.name, change.body);
    case 'deleteService':
      return deleteService(state, change.name);
    case 'setWeights':
      return setWeights(state, change.name, change.weights);
    case 'promote':
      return promote(state, change.name, change.version);
    case 'rollback':
      return rollback(state, change.name);
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
  }
}
