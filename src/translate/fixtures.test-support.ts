// Inputs the translator's unit tests share: a `predict` service (blue 90 %, green 10 %, canary
// 0 %, each on its own IP endpoint) that a test adjusts with overrides, and a validated desired
// state holding it. Test support only; nothing in sluice imports it.

import type { DesiredState, Service } from '../model/types.js';
import { validateState } from '../model/validate.js';

export function predictService(overrides: Partial<Service> = {}): Service {
  return {
    name: 'predict',
    listener: 'default',
    match: { prefix: '/predict' },
    hosts: ['*'],
    versions: ['blue', 'green', 'canary'].map((name, i) => ({ name, endpoints: [{ address: `10.0.${i}.1`, port: 5001 }] })),
    weights: { blue: 90, green: 10, canary: 0 },
    stable: 'blue',
    pinHeader: 'x-sluice-version',
    timeout: '30s',
    ...overrides,
  };
}

/** The state sluice would hold with `svc` on the default listener; validated, so it is one sluice accepts. */
export function stateOf(svc: Service): DesiredState {
  const state: DesiredState = {
    revision: 1,
    listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
    services: { [svc.name]: svc },
  };
  validateState(state);
  return state;
}
