// Meaning-level checks of the desired state (what a schema cannot say): weights that sum to
// 100 (and a hint when they were given as fractions), names that are unique and references that resolve, and the defaults a service body gets.
// Pure: every failure is a SluiceError carrying the JSON pointer of the offending field.

import { isIP } from 'node:net';
import { SluiceError } from '../errors.js';
import { parseBoundedDuration, parseDuration } from './duration.js';
import { pointerToken } from './json-pointer.js';
import { NAME_PATTERN } from './fields.js';
import { DEFAULT_HOSTS, DEFAULT_LISTENER_ADDRESS, type ListenerBody, type ServiceBody } from './schema.js';
import { selectionsOverlap } from './node-selector.js';
import { checkRollout } from './rollout.js';
import { DEFAULT_LISTENER_NAME, DEFAULT_PIN_HEADER, DEFAULT_PROTOCOL, DEFAULT_TIMEOUT } from './types.js';
import type { DesiredState, Listener, Service, Version, Weights } from './types.js';
import {
  checkCookieMatches,
  checkHealthTarget,
  checkPolicies,
  normalizeAffinity,
  normalizeHealthCheck,
  normalizeMirror,
  normalizeShadow,
  normalizeOutlierDetection,
  normalizeRules,
} from './traffic-policies.js';

const NAME_RE = new RegExp(NAME_PATTERN);
const HOSTNAME_LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Weights are compared in hundredths of a percent: they must sum to exactly this. */
const HUNDREDTHS_TOTAL = 10_000;

function checkName(kind: string, name: string, path?: string): void {
  if (!NAME_RE.test(name)) {
    throw new SluiceError(
      'SLUICE_INVALID_BODY',
      `${kind} name "${name}" must be 1–32 lowercase letters, digits or "-", starting and ending with a letter or digit.`,
      path,
    );
  }
}

function isHostname(address: string): boolean {
  const labels = (address.endsWith('.') ? address.slice(0, -1) : address).split('.');
  return address.length <= 253 && labels.every((label) => HOSTNAME_LABEL_RE.test(label));
}

function checkEndpointAddress(address: string, path: string): void {
  if (isIP(address) === 0 && !isHostname(address)) {
    throw new SluiceError('SLUICE_INVALID_BODY', `"${address}" is not an IPv4 or IPv6 address or a hostname.`, path);
  }
}

function checkVersions(versions: readonly Version[]): void {
  const seen = new Set<string>();
  versions.forEach((version, i) => {
    checkName('Version', version.name, `/versions/${i}/name`);
    if (seen.has(version.name)) {
      throw new SluiceError(
        'SLUICE_DUPLICATE_VERSION',
        `Version "${version.name}" is defined more than once.`,
        `/versions/${i}/name`,
      );
    }
    seen.add(version.name);
    version.endpoints.forEach((endpoint, j) => {
      checkEndpointAddress(endpoint.address, `/versions/${i}/endpoints/${j}/address`);
    });
  });
}

/** How far from 1 fractions may sum and still read as fractions (0.33 + 0.33 + 0.33 does). */
const FRACTION_SUM_TOLERANCE = 0.011;

/**
 * Weights given as fractions (`{blue: 0.9, green: 0.1}`, summing to 1 within rounding) are
 * refused with the percentages they probably meant.
 */
function checkNotFractions(weights: Weights, base: string): void {
  const values = Object.values(weights);
  if (values.length === 0 || !values.every((w) => Number.isFinite(w) && w >= 0 && w <= 1)) return;
  const sum = values.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > FRACTION_SUM_TOLERANCE) return;
  const meant = Object.entries(weights).map(([name, w]) => `${name}: ${Math.round(w * 10_000) / 100}`).join(', ');
  throw new SluiceError(
    'SLUICE_WEIGHTS_SUM',
    `Weights are percentages and must sum to 100; these sum to ${Math.round(sum * 1000) / 1000} — did you mean ${meant}?`,
    base,
  );
}

/**
 * Checks weights against a service's versions and returns one weight per version, in version
 * order (versions not listed get 0). `base` is the pointer of the weights object in the body.
 */
export function completeWeights(versions: readonly Version[], weights: Weights, base: string): Weights {
  const names = new Set(versions.map((v) => v.name));
  for (const name of Object.keys(weights)) {
    if (!names.has(name)) {
      const path = `${base}/${pointerToken(name)}`;
      throw new SluiceError('SLUICE_UNKNOWN_VERSION', `Weight given for "${name}", which is not a version of this service.`, path);
    }
  }
  checkNotFractions(weights, base);
  let hundredths = 0;
  for (const [name, weight] of Object.entries(weights)) {
    const path = `${base}/${pointerToken(name)}`;
    const scaled = weight * 100;
    if (!Number.isFinite(weight) || weight < 0 || weight > 100 || Math.abs(scaled - Math.round(scaled)) > 1e-6) {
      throw new SluiceError(
        'SLUICE_INVALID_BODY',
        `Weight ${weight} for "${name}" must be a percentage between 0 and 100 with at most two decimals.`,
        path,
      );
    }
    hundredths += Math.round(scaled);
  }
  if (hundredths !== HUNDREDTHS_TOTAL) {
    throw new SluiceError('SLUICE_WEIGHTS_SUM', `Weights must sum to exactly 100; they sum to ${hundredths / 100}.`, base);
  }
  // Own keys only: a version may be named like an Object.prototype member ("constructor").
  return Object.fromEntries(versions.map((v) => [v.name, Object.hasOwn(weights, v.name) ? (weights[v.name] ?? 0) : 0]));
}

/** Everything that must hold inside one normalized service, whatever else is in the state. */
export function checkService(service: Service): void {
  checkName('Service', service.name);
  checkVersions(service.versions);
  const weights = completeWeights(service.versions, service.weights, '/weights');
  if (Object.keys(weights).length !== Object.keys(service.weights).length) {
    throw new SluiceError('SLUICE_INVALID_BODY', 'Every version must have a weight.', '/weights');
  }
  if (!service.versions.some((v) => v.name === service.stable)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `Stable version "${service.stable}" is not a version of this service.`, '/stable');
  }
  parseDuration(service.timeout, '/timeout');
  checkPolicies(service.versions, service.mirror, service.shadow, service.rules);
  if (service.healthCheck) {
    const protocol = service.protocol ?? DEFAULT_PROTOCOL;
    checkHealthTarget(service.healthCheck, protocol);
    if (protocol !== 'grpc' && service.healthCheck.path === undefined) {
      throw new SluiceError('SLUICE_INVALID_BODY', `An ${protocol} service's health check needs a path.`, '/healthCheck/path');
    }
  }
}

/** Fills a service body's defaults and checks it on its own; placement is checkServicePlacement's. */
export function normalizeService(name: string, body: ServiceBody): Service {
  checkName('Service', name);
  if (body.name !== undefined && body.name !== name) {
    throw new SluiceError('SLUICE_INVALID_BODY', `The body names service "${body.name}" but the path names "${name}".`, '/name');
  }
  const versions = body.versions.map((v) => ({
    name: v.name,
    endpoints: v.endpoints.map((e) => ({ address: e.address, port: e.port })),
  }));
  checkVersions(versions);
  const firstVersion = versions[0];
  if (firstVersion === undefined) {
    throw new SluiceError('SLUICE_INVALID_BODY', 'A service needs at least one version.', '/versions');
  }
  const stable = body.stable ?? firstVersion.name;
  if (!versions.some((v) => v.name === stable)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `Stable version "${stable}" is not a version of this service.`, '/stable');
  }
  const service: Service = {
    name,
    listener: body.listener ?? DEFAULT_LISTENER_NAME,
    match: { prefix: body.match.prefix },
    hosts: (body.hosts ?? DEFAULT_HOSTS).map((h) => h.toLowerCase()),
    versions,
    weights: completeWeights(versions, body.weights ?? { [stable]: 100 }, '/weights'),
    stable,
    pinHeader: body.pinHeader ?? DEFAULT_PIN_HEADER,
    timeout: body.timeout ?? DEFAULT_TIMEOUT,
  };
  const affinity = normalizeAffinity(body.affinity);
  const mirror = normalizeMirror(body.mirror, versions);
  const rules = normalizeRules(body.rules, versions);
  if (affinity) service.affinity = affinity;
  const shadow = normalizeShadow(body.shadow, versions, stable, mirror);
  if (mirror) service.mirror = mirror;
  if (shadow) service.shadow = shadow;
  if (rules) service.rules = rules;
  const outlierDetection = normalizeOutlierDetection(body.outlierDetection);
  if (body.protocol !== undefined) service.protocol = body.protocol;
  const healthCheck = normalizeHealthCheck(body.healthCheck, body.protocol ?? DEFAULT_PROTOCOL);
  if (outlierDetection) service.outlierDetection = outlierDetection;
  if (healthCheck) service.healthCheck = healthCheck;
  parseBoundedDuration(service.timeout, '/timeout');
  checkCookieMatches(versions, affinity, rules);
  const duplicateHost = service.hosts.findIndex((h, i) => service.hosts.indexOf(h) !== i);
  if (duplicateHost !== -1) {
    throw new SluiceError('SLUICE_INVALID_BODY', `Host "${service.hosts[duplicateHost]}" is listed twice.`, `/hosts/${duplicateHost}`);
  }
  checkService(service);
  return service;
}

/** The service's listener exists, and no other service on it routes one of its hosts and its prefix. */
export function checkServicePlacement(service: Service, state: DesiredState): void {
  if (!Object.hasOwn(state.listeners, service.listener)) {
    throw new SluiceError('SLUICE_UNKNOWN_LISTENER', `Listener "${service.listener}" does not exist.`, '/listener');
  }
  for (const other of Object.values(state.services)) {
    if (other.name === service.name || other.listener !== service.listener) continue;
    if (other.match.prefix !== service.match.prefix) continue;
    const host = service.hosts.find((h) => other.hosts.includes(h));
    if (host !== undefined) {
      throw new SluiceError(
        'SLUICE_ROUTE_CONFLICT',
        `Service "${other.name}" already routes host "${host}" and prefix "${service.match.prefix}" on listener "${service.listener}".`,
        '/match/prefix',
      );
    }
  }
}

function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** Fills a listener body's defaults and checks the address. */
export function normalizeListener(name: string, body: ListenerBody): Listener {
  checkName('Listener', name);
  if (body.name !== undefined && body.name !== name) {
    throw new SluiceError('SLUICE_INVALID_BODY', `The body names listener "${body.name}" but the path names "${name}".`, '/name');
  }
  const listener: Listener = { name, address: body.address ?? DEFAULT_LISTENER_ADDRESS, port: body.port };
  if (body.nodes !== undefined) listener.nodes = { clusters: [...body.nodes.clusters].sort() };
  if (isIP(listener.address) === 0) {
    throw new SluiceError('SLUICE_INVALID_BODY', `Listener address "${listener.address}" must be an IPv4 or IPv6 address.`, '/address');
  }
  if (!Number.isInteger(listener.port) || listener.port < 1 || listener.port > 65535) {
    throw new SluiceError('SLUICE_INVALID_BODY', `Port ${listener.port} must be an integer from 1 to 65535.`, '/port');
  }
  return listener;
}

/** No other listener that some Envoy would also receive binds an overlapping address on the same port. */
export function checkListenerPlacement(listener: Listener, state: DesiredState): void {
  for (const other of Object.values(state.listeners)) {
    if (other.name === listener.name || other.port !== listener.port || !selectionsOverlap(listener, other)) continue;
    if (other.address === listener.address || isWildcardAddress(other.address) || isWildcardAddress(listener.address)) {
      throw new SluiceError(
        'SLUICE_PORT_CONFLICT',
        `Listener "${other.name}" already uses ${other.address}:${other.port}.`,
        '/port',
      );
    }
  }
}

/** The whole state is consistent: what every committed revision must satisfy. */
export function validateState(state: DesiredState): void {
  for (const [key, listener] of Object.entries(state.listeners)) {
    if (key !== listener.name) {
      throw new SluiceError('SLUICE_INVALID_BODY', `Listener stored as "${key}" is named "${listener.name}".`);
    }
    normalizeListener(listener.name, listener);
    checkListenerPlacement(listener, state);
  }
  for (const [key, service] of Object.entries(state.services)) {
    if (key !== service.name) {
      throw new SluiceError('SLUICE_INVALID_BODY', `Service stored as "${key}" is named "${service.name}".`);
    }
    checkService(service);
    checkServicePlacement(service, state);
  }
  for (const [key, rollout] of Object.entries(state.rollouts ?? {})) checkRollout(key, rollout);
}
