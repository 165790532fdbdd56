// The pre-commit Envoy check over real translations: clean for every feature sluice offers, a
// refusal naming the service, resource, field, value and rule for what Envoy would NACK, and no
// blame for what the current state already holds.

import { describe, expect, it } from 'vitest';
import type { SluiceError } from '../errors.js';
import type { DesiredState, Service } from '../model/types.js';
import { predictService, stateOf } from '../translate/fixtures.test-support.js';
import type { TranslatedResources } from '../translate/resources.js';
import { translate } from '../translate/translate.js';
import { ResourceRuleCache } from '../xds/resource-rules.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { envoyAcceptanceCheck } from './envoy-acceptance.js';

const everyFeature = predictService({
  hosts: ['predict.example', '*.example.com'],
  versions: [
    { name: 'blue', endpoints: [{ address: '10.0.0.1', port: 5001 }] },
    { name: 'green', endpoints: [{ address: 'green.internal', port: 5002 }] },
  ],
  weights: { blue: 90, green: 10 },
  affinity: { version: { by: 'cohortCookie', name: 'cohort', ttl: '1h' }, hash: [{ cookie: 'session', ttl: '10m', path: '/' }], lb: 'maglev' },
  mirror: { to: 'green', percent: 12.5 },
  rules: [{ match: { headers: { 'x-beta': 'yes' }, cookies: { tier: 'gold' } }, to: 'green' }],
  outlierDetection: { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
  healthCheck: { path: '/healthz', interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 },
});

function withServices(...services: Service[]): DesiredState {
  const state = stateOf(services[0]!);
  return { ...state, services: Object.fromEntries(services.map((s) => [s.name, s])) };
}

const empty: DesiredState = { ...stateOf(predictService()), revision: 0, services: {} };

function refusal(check: () => void): SluiceError {
  try {
    check();
  } catch (error) {
    return error as SluiceError;
  }
  throw new Error('the check accepted the state');
}

function allResources(resources: TranslatedResources) {
  return [
    ...resources.listeners.map((r) => ({ typeUrl: LISTENER_TYPE, ...r })),
    ...resources.routes.map((r) => ({ typeUrl: ROUTE_TYPE, ...r })),
    ...resources.clusters.map((r) => ({ typeUrl: CLUSTER_TYPE, ...r })),
    ...resources.endpoints.map((r) => ({ typeUrl: ENDPOINT_TYPE, ...r })),
  ];
}

describe('what sluice translates breaks none of Envoy’s rules', () => {
  it.each([
    ['every feature, current Envoy', () => translate(stateOf(everyFeature))],
    ['every feature, Envoy before 1.36', () => translate(stateOf(everyFeature), { capabilities: { hashSplit: false } })],
    ['key-based affinity with a replica hash', () => translate(stateOf(predictService({ affinity: { version: { by: 'header', name: 'x-user' }, hash: [{ header: 'x-user' }], lb: 'ringHash' } })))],
  ])('%s', (_name, translated) => {
    expect(new ResourceRuleCache().check(allResources(translated()))).toEqual([]);
  });
});

describe('envoyAcceptanceCheck', () => {
  it('lets a state Envoy accepts through', () => {
    expect(() => envoyAcceptanceCheck()(stateOf(everyFeature), empty)).not.toThrow();
  });

  it('refuses a cluster field Envoy rejects, naming service, resource, field, value and rule', () => {
    const broken = predictService({ healthCheck: { path: '/health\u0000z', interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 } });
    const error = refusal(() => envoyAcceptanceCheck()(stateOf(broken), empty));
    expect(error.code).toBe('SLUICE_ENVOY_WOULD_REJECT');
    expect(error.status).toBe(422);
    expect(error.path).toBe('/services/predict');
    expect(error.message).toContain('Envoy would reject service "predict": clusters resource "predict_blue", field /health_checks/0/http_health_check/path is "/health\\u0000z"');
    expect(error.message).toContain('rule string.well_known_regex');
    expect(error.message).toMatch(/and \d+ more/);
  });

  it('blames the service whose route breaks a rule, not its neighbour in the route table', () => {
    const other = predictService({ name: 'other', match: { prefix: '/other\ud800' } });
    const error = refusal(() => envoyAcceptanceCheck()(withServices(predictService(), other), empty));
    expect(error.path).toBe('/services/other');
    expect(error.message).toContain('routes resource "default", field /virtual_hosts/0/routes/');
    expect(error.message).toContain('rule utf8');
  });

  it('refuses only what the change introduces: what the current state holds is not its fault', () => {
    const check = envoyAcceptanceCheck();
    const broken = predictService({ timeout: '2562048h' });
    const current = stateOf(broken);
    expect(() => check({ ...current, revision: 2, services: { predict: { ...broken, weights: { blue: 100, green: 0, canary: 0 } } } }, current)).not.toThrow();
    const withOther = withServices(broken, predictService({ name: 'other', match: { prefix: '/other' } }));
    expect(() => check(withOther, current)).not.toThrow();
    const otherBroken = withServices(broken, predictService({ name: 'other', match: { prefix: '/other' }, timeout: '999999999999s' }));
    const error = refusal(() => check(otherBroken, current));
    expect(error.path).toBe('/services/other');
    expect(error.message).toContain('is "999999999999s" but must be at most 9223372035.999999999s');
  });
});
