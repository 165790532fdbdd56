// The service's traffic policies beyond weights: version and replica affinity, mirroring, shadow
// comparison, A/B
// rules and replica health (outlier detection, active HTTP or gRPC health checks) — their
// normalisation and meaning-level checks with JSON-pointer paths (shapes: types.ts, schema.ts).
// Pure; knows nothing of Envoy.

import { SluiceError } from '../errors.js';
import { parseBoundedDuration, parseDuration } from './duration.js';
import { COOKIE_NAME_PATTERN, HEADER_NAME_PATTERN, QUERY_NAME_PATTERN } from './fields.js';
import { pointerToken } from './json-pointer.js';
import type { AffinityBody } from './schema.js';
import {
  DEFAULT_COHORT_TTL,
  type Affinity,
  type HashKey,
  type HealthCheck,
  type Mirror,
  type OutlierDetection,
  type Rule,
  type Service,
  type Shadow,
  type ShadowCompare,
  type UpstreamProtocol,
  type Version,
  type VersionAffinity,
} from './types.js';

function invalid(message: string, path: string): never {
  throw new SluiceError('SLUICE_INVALID_BODY', message, path);
}

function checkVersionName(versions: readonly Version[], name: string, path: string): void {
  if (!versions.some((v) => v.name === name)) {
    throw new SluiceError('SLUICE_UNKNOWN_VERSION', `"${name}" is not a version of this service.`, path);
  }
}

function normalizeVersionAffinity(body: AffinityBody['version']): VersionAffinity {
  const path = '/affinity/version';
  if (body === undefined || body.by === 'none' || body.by === 'sourceIp') {
    if (body?.name !== undefined) invalid(`"name" does not apply to version affinity by ${body.by}.`, `${path}/name`);
    if (body?.ttl !== undefined) invalid(`"ttl" applies only to version affinity by cohortCookie.`, `${path}/ttl`);
    return body?.by === 'sourceIp' ? { by: 'sourceIp' } : { by: 'none' };
  }
  if (body.name === undefined) invalid(`Version affinity by ${body.by} needs the "name" of the ${body.by === 'query' ? 'query parameter' : body.by === 'header' ? 'header' : 'cookie'}.`, `${path}/name`);
  const pattern = body.by === 'header' ? HEADER_NAME_PATTERN : body.by === 'query' ? QUERY_NAME_PATTERN : COOKIE_NAME_PATTERN;
  if (!new RegExp(pattern).test(body.name)) invalid(`"${body.name}" is not a valid ${body.by === 'query' ? 'query parameter' : body.by} name.`, `${path}/name`);
  if (body.by === 'cohortCookie') {
    const ttl = body.ttl ?? DEFAULT_COHORT_TTL;
    if (parseBoundedDuration(ttl, `${path}/ttl`) < 1000) invalid('The cohort cookie must live at least one second.', `${path}/ttl`);
    return { by: 'cohortCookie', name: body.name, ttl };
  }
  if (body.ttl !== undefined) invalid(`"ttl" applies only to version affinity by cohortCookie.`, `${path}/ttl`);
  return { by: body.by, name: body.name };
}

function normalizeHashKey(item: NonNullable<AffinityBody['hash']>[number], index: number): HashKey {
  const path = `/affinity/hash/${index}`;
  const kinds = (['header', 'cookie', 'sourceIp', 'queryParameter'] as const).filter((k) => item[k] !== undefined);
  if (kinds.length !== 1) invalid('Each hash key names exactly one of "header", "cookie", "sourceIp" or "queryParameter".', path);
  const kind = kinds[0]!;
  if (kind !== 'cookie' && (item.ttl !== undefined || item.path !== undefined)) {
    invalid('"ttl" and "path" apply only to a cookie hash key.', `${path}/${item.ttl !== undefined ? 'ttl' : 'path'}`);
  }
  if (kind === 'header') return { header: item.header! };
  if (kind === 'sourceIp') return { sourceIp: true };
  if (kind === 'queryParameter') return { queryParameter: item.queryParameter! };
  if (item.ttl !== undefined) parseBoundedDuration(item.ttl, `${path}/ttl`);
  return { cookie: item.cookie!, ...(item.ttl !== undefined ? { ttl: item.ttl } : {}), ...(item.path !== undefined ? { path: item.path } : {}) };
}

/** The hash key that carries a key-based version affinity's key, if it is one. */
export function versionHashKey(version: VersionAffinity): HashKey | undefined {
  switch (version.by) {
    case 'header':
      return { header: version.name };
    case 'cookie':
      return { cookie: version.name };
    case 'query':
      return { queryParameter: version.name };
    case 'sourceIp':
      return { sourceIp: true };
    default:
      return undefined;
  }
}

function sameKey(a: HashKey, b: HashKey): boolean {
  if ('header' in a && 'header' in b) return a.header === b.header;
  if ('cookie' in a && 'cookie' in b) return a.cookie === b.cookie && a.ttl === undefined && b.ttl === undefined;
  if ('queryParameter' in a && 'queryParameter' in b) return a.queryParameter === b.queryParameter;
  return 'sourceIp' in a && 'sourceIp' in b;
}

export function normalizeAffinity(body: AffinityBody | undefined): Affinity | undefined {
  if (body === undefined) return undefined;
  const version = normalizeVersionAffinity(body.version);
  const hash = (body.hash ?? []).map(normalizeHashKey);
  const key = versionHashKey(version);
  // Envoy picks the version and the replica from one route hash: with a key-based version
  // affinity, replica affinity must hash on that same key or the version would depend on both.
  if (key && hash.length > 0) {
    const other = hash.findIndex((h) => !sameKey(h, key));
    if (other !== -1 || hash.length > 1) {
      throw new SluiceError(
        'SLUICE_AFFINITY_CONFLICT',
        `With version affinity by ${version.by}, the replica hash must be that same key alone (Envoy derives the version and the replica from one hash).`,
        `/affinity/hash/${other === -1 ? 1 : other}`,
      );
    }
  }
  return { version, hash, lb: body.lb ?? 'ringHash' };
}

export function normalizeMirror(body: Mirror | undefined, versions: readonly Version[]): Mirror | undefined {
  if (body === undefined) return undefined;
  checkVersionName(versions, body.to, '/mirror/to');
  checkTwoDecimals(body.percent, '/mirror/percent');
  return { to: body.to, percent: body.percent };
}

function checkTwoDecimals(percent: number, path: string): void {
  const scaled = percent * 100;
  if (Math.abs(scaled - Math.round(scaled)) > 1e-6) invalid('The percentage allows at most two decimals.', path);
}

/**
 * A shadow names a version other than the stable one (the stable version must never compute a
 * request twice), is not combined with a plain mirror, and gives each comparison what it needs.
 */
export function normalizeShadow(body: Shadow | undefined, versions: readonly Version[], stable: string, mirror: Mirror | undefined): Shadow | undefined {
  if (body === undefined) return undefined;
  if (mirror !== undefined) invalid('A service either mirrors (answers discarded) or shadows (answers compared), not both; remove "mirror".', '/shadow');
  checkVersionName(versions, body.to, '/shadow/to');
  if (body.to === stable) invalid(`"${body.to}" is the stable version; a shadow copies requests to another version, so the stable one never computes a request twice.`, '/shadow/to');
  checkTwoDecimals(body.percent, '/shadow/percent');
  return { to: body.to, percent: body.percent, compare: normalizeShadowCompare(body.compare, '/shadow/compare'), keep: body.keep ?? 'answers' };
}

/** A comparison has what its kind needs (a `path` for numeric and label) and nothing it does not; `base` is its JSON pointer. */
export function normalizeShadowCompare(compare: ShadowCompare, base: string): ShadowCompare {
  const needsPath = compare.kind === 'numeric' || compare.kind === 'label';
  if (needsPath && compare.path === undefined) invalid(`A ${compare.kind} comparison needs the "path" of the value in the JSON answer (a JSON pointer such as "/prediction").`, `${base}/path`);
  if (!needsPath && compare.path !== undefined) invalid(`"path" does not apply to a ${compare.kind} comparison.`, `${base}/path`);
  const tolerant = compare.kind === 'numeric' || compare.kind === 'oip';
  for (const field of ['absolute', 'relative'] as const) {
    if (!tolerant && compare[field] !== undefined) invalid(`"${field}" does not apply to a ${compare.kind} comparison.`, `${base}/${field}`);
  }
  return {
    kind: compare.kind,
    ...(compare.path !== undefined ? { path: compare.path } : {}),
    ...(compare.absolute !== undefined ? { absolute: compare.absolute } : {}),
    ...(compare.relative !== undefined ? { relative: compare.relative } : {}),
  };
}

/** The shadow in effect: none when it copies nothing or names the stable version (that one would compute twice). */
export function activeShadow(service: Service): Shadow | undefined {
  const shadow = service.shadow;
  if (!shadow || shadow.percent <= 0 || shadow.to === service.stable) return undefined;
  return service.versions.some((v) => v.name === shadow.to) ? shadow : undefined;
}

export function normalizeRules(body: Rule[] | undefined, versions: readonly Version[]): Rule[] | undefined {
  if (body === undefined || body.length === 0) return undefined;
  return body.map((rule, i) => {
    checkVersionName(versions, rule.to, `/rules/${i}/to`);
    return {
      match: {
        ...(rule.match.headers ? { headers: { ...rule.match.headers } } : {}),
        ...(rule.match.cookies ? { cookies: { ...rule.match.cookies } } : {}),
      },
      to: rule.to,
    };
  });
}

/**
 * The most bytes of UTF-8 a cookie name and value that a route matches may hold together. Envoy
 * matches them with the RE2 regex `(.*;\s*)?<name>=<value>(;.*)?` (translate/affinity.ts), whose
 * program is 20 instructions plus one per byte of name and value (measured with
 * `envoy --mode validate`, 1.40), and refuses a program over 100 instructions (its default
 * `re2.max_program_size.error_level`): 80 bytes pass, 81 do not. 64 leaves 16 instructions of
 * margin for an RE2 that compiles the surrounding pattern differently.
 */
export const MAX_COOKIE_MATCH_BYTES = 64;

function checkCookieMatch(what: string, name: string, value: string, path: string): void {
  const bytes = Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  if (bytes <= MAX_COOKIE_MATCH_BYTES) return;
  throw new SluiceError(
    'SLUICE_COOKIE_MATCH_TOO_LONG',
    `${what} is ${bytes} bytes of UTF-8 together; a matched cookie's name and value may hold at most ${MAX_COOKIE_MATCH_BYTES} (Envoy matches them with a regex that grows with them and refuses large ones).`,
    path,
  );
}

/** Every cookie a route will match on (A/B rules, the cohort cookie with each version) is short enough for Envoy's regex limit. */
export function checkCookieMatches(versions: readonly Version[], affinity: Affinity | undefined, rules: Rule[] | undefined): void {
  rules?.forEach((rule, i) => {
    for (const [name, value] of Object.entries(rule.match.cookies ?? {})) {
      checkCookieMatch(`Cookie "${name}" with the value ${JSON.stringify(value)}`, name, value, `/rules/${i}/match/cookies/${pointerToken(name)}`);
    }
  });
  const version = affinity?.version;
  if (version?.by !== 'cohortCookie') return;
  for (const { name } of versions) {
    checkCookieMatch(`Cohort cookie "${version.name}" with version "${name}"`, version.name, name, '/affinity/version/name');
  }
}

/** Re-checks a stored service's policies (e.g. after versions changed). */
export function checkPolicies(versions: readonly Version[], mirror: Mirror | undefined, shadow: Shadow | undefined, rules: Rule[] | undefined): void {
  if (mirror) checkVersionName(versions, mirror.to, '/mirror/to');
  if (shadow) checkVersionName(versions, shadow.to, '/shadow/to');
  rules?.forEach((rule, i) => checkVersionName(versions, rule.to, `/rules/${i}/to`));
}

function positiveDuration(text: string, path: string): string {
  if (parseBoundedDuration(text, path) <= 0) invalid('The duration must be longer than zero.', path);
  return text;
}

export function normalizeOutlierDetection(body: Partial<OutlierDetection> | undefined): OutlierDetection | undefined {
  if (body === undefined) return undefined;
  return {
    consecutive5xx: body.consecutive5xx ?? 5,
    interval: positiveDuration(body.interval ?? '10s', '/outlierDetection/interval'),
    baseEjectionTime: positiveDuration(body.baseEjectionTime ?? '30s', '/outlierDetection/baseEjectionTime'),
    maxEjectionPercent: body.maxEjectionPercent ?? 50,
  };
}

/** The health check's target suits the protocol: a path for HTTP, at most a gRPC service name for gRPC. */
export function checkHealthTarget(check: Partial<HealthCheck>, protocol: UpstreamProtocol): void {
  if (protocol === 'grpc' && check.path !== undefined) {
    invalid('A grpc service is health-checked with grpc.health.v1, which has no path; name the checked service with "grpcService" instead.', '/healthCheck/path');
  }
  if (protocol !== 'grpc' && check.grpcService !== undefined) {
    invalid(`"grpcService" applies only to a grpc service; this one speaks ${protocol}.`, '/healthCheck/grpcService');
  }
}

export function normalizeHealthCheck(body: Partial<HealthCheck> | undefined, protocol: UpstreamProtocol): HealthCheck | undefined {
  if (body === undefined) return undefined;
  checkHealthTarget(body, protocol);
  const target =
    protocol === 'grpc' ? (body.grpcService !== undefined ? { grpcService: body.grpcService } : {}) : { path: body.path ?? '/healthz' };
  const check = {
    ...target,
    interval: positiveDuration(body.interval ?? '5s', '/healthCheck/interval'),
    timeout: positiveDuration(body.timeout ?? '2s', '/healthCheck/timeout'),
    unhealthyThreshold: body.unhealthyThreshold ?? 2,
    healthyThreshold: body.healthyThreshold ?? 1,
  };
  if (parseDuration(check.timeout) > parseDuration(check.interval)) {
    invalid('The health check timeout must not be longer than its interval.', '/healthCheck/timeout');
  }
  return check;
}
