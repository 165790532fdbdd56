// The pure change functions: each returns a frozen next revision or refuses with a coded error.

import { describe, expect, it } from 'vitest';
import { SluiceError } from '../errors.js';
import type { ServiceBody } from '../model/schema.js';
import type { DesiredState } from '../model/types.js';
import { applyChange, deepFreeze, summarize, type Change } from './changes.js';

function errorOf(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError, nothing was thrown');
}

const predict: ServiceBody = {
  match: { prefix: '/predict' },
  versions: [
    { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
    { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
  ],
};

const empty: DesiredState = deepFreeze({
  revision: 0,
  listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
  services: {},
});

function run(...changes: Change[]): DesiredState {
  return changes.reduce((state: DesiredState, change) => applyChange(state, change), empty);
}

const withPredict = run({ kind: 'putService', name: 'predict', body: predict });

describe('applyChange', () => {
  it('returns a new deep-frozen state at the next revision and leaves the input alone', () => {
    expect(withPredict.revision).toBe(1);
    expect(Object.isFrozen(withPredict)).toBe(true);
    expect(Object.isFrozen(withPredict.services['predict']?.versions[0]?.endpoints)).toBe(true);
    expect(empty.services).toEqual({});
  });

  it('setWeights replaces all weights; versions not listed get 0', () => {
    const shifted = applyChange(withPredict, { kind: 'setWeights', name: 'predict', weights: { blue: 90, green: 10 } });
    expect(shifted.services['predict']?.weights).toEqual({ blue: 90, green: 10 });
    const allGreen = applyChange(shifted, { kind: 'setWeights', name: 'predict', weights: { green: 100 } });
    expect(allGreen.services['predict']?.weights).toEqual({ blue: 0, green: 100 });
    expect(allGreen.services['predict']?.stable).toBe('blue');
  });

  it('setWeights errors point into the weights body', () => {
    expect(errorOf(() => applyChange(withPredict, { kind: 'setWeights', name: 'predict', weights: { red: 100 } }))).toMatchObject({
      code: 'SLUICE_UNKNOWN_VERSION',
      path: '/red',
    });
  });

  it('promote sends 100% to the version and makes it stable; rollback returns 100% to stable', () => {
    const canary = applyChange(withPredict, { kind: 'setWeights', name: 'predict', weights: { blue: 50, green: 50 } });
    const rolledBack = applyChange(canary, { kind: 'rollback', name: 'predict' });
    expect(rolledBack.services['predict']).toMatchObject({ stable: 'blue', weights: { blue: 100, green: 0 } });
    const promoted = applyChange(canary, { kind: 'promote', name: 'predict', version: 'green' });
    expect(promoted.services['predict']).toMatchObject({ stable: 'green', weights: { blue: 0, green: 100 } });
    expect(applyChange(promoted, { kind: 'rollback', name: 'predict' }).services['predict']?.weights).toEqual({ blue: 0, green: 100 });
  });

  it('promote refuses an unknown version', () => {
    expect(errorOf(() => applyChange(withPredict, { kind: 'promote', name: 'predict', version: 'red' }))).toMatchObject({
      code: 'SLUICE_UNKNOWN_VERSION',
      path: '/version',
    });
  });

  it('answers SLUICE_SERVICE_NOT_FOUND for every action on an unknown service', () => {
    const actions: Change[] = [
      { kind: 'deleteService', name: 'nope' },
      { kind: 'setWeights', name: 'nope', weights: { blue: 100 } },
      { kind: 'promote', name: 'nope', version: 'blue' },
      { kind: 'rollback', name: 'nope' },
      { kind: 'rollback', name: 'constructor' },
    ];
    for (const change of actions) expect(errorOf(() => applyChange(withPredict, change)).code).toBe('SLUICE_SERVICE_NOT_FOUND');
  });

  it('deletes a service', () => {
    expect(applyChange(withPredict, { kind: 'deleteService', name: 'predict' }).services).toEqual({});
  });

  it('refuses to delete a listener a service uses, and deletes it once unused', () => {
    expect(errorOf(() => applyChange(withPredict, { kind: 'deleteListener', name: 'default' })).code).toBe('SLUICE_LISTENER_IN_USE');
    expect(run({ kind: 'deleteListener', name: 'default' }).listeners).toEqual({});
    expect(errorOf(() => run({ kind: 'deleteListener', name: 'nope' })).code).toBe('SLUICE_LISTENER_NOT_FOUND');
  });

  it('puts listeners and moves services onto them', () => {
    const state = run(
      { kind: 'putListener', name: 'edge', body: { port: 443, address: '10.0.0.1' } },
      { kind: 'putService', name: 'predict', body: { ...predict, listener: 'edge' } },
    );
    expect(state.listeners['edge']).toEqual({ name: 'edge', address: '10.0.0.1', port: 443 });
    expect(state.services['predict']?.listener).toBe('edge');
    expect(state.revision).toBe(2);
  });

  it('refuses a service on a missing listener', () => {
    expect(errorOf(() => run({ kind: 'putService', name: 'predict', body: { ...predict, listener: 'edge' } })).code).toBe(
      'SLUICE_UNKNOWN_LISTENER',
    );
  });
});

describe('summarize', () => {
  it('says what changed in one line', () => {
    const change: Change = { kind: 'setWeights', name: 'predict', weights: { blue: 90, green: 10 } };
    expect(summarize(change, applyChange(withPredict, change))).toBe('set weights of predict (stable blue): blue 90, green 10');
    expect(summarize({ kind: 'deleteListener', name: 'edge' }, empty)).toBe('delete listener edge');
  });
});
