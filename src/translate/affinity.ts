// Version and replica affinity in Envoy terms: the route hash policy, whether the weighted
// split is drawn from it (`use_hash_policy`, Envoy ≥ 1.36), and the cohort-cookie mode that works
// on any Envoy (and stands in for key-based affinity on older ones). Pure.

import { parseDuration } from '../model/duration.js';
import { versionHashKey } from '../model/traffic-policies.js';
import type { HashKey, Service, VersionAffinity } from '../model/types.js';
import { durationJson, type ResourceJson } from './resources.js';

/** What the receiving Envoys can do; older Envoys get the cohort-cookie fallback. */
export interface ProxyCapabilities {
  /** `weighted_clusters.use_hash_policy` (Envoy ≥ 1.36). */
  hashSplit: boolean;
}

export const CURRENT_ENVOY: ProxyCapabilities = { hashSplit: true };

/** How long the stable version's cohort cookie lives: short, so the real split follows the weights. */
export const STABLE_COHORT_SECONDS = 300;

export function fallbackCohortCookie(service: Service): string {
  return `sluice-${service.name}`;
}

/** The version affinity actually used for these proxies. */
export function effectiveVersionAffinity(service: Service, capabilities: ProxyCapabilities): VersionAffinity {
  const version = service.affinity?.version ?? { by: 'none' };
  if (capabilities.hashSplit || versionHashKey(version) === undefined) return version;
  return { by: 'cohortCookie', name: fallbackCohortCookie(service), ttl: '24h' };
}

function hashPolicyJson(key: HashKey): ResourceJson {
  if ('header' in key) return { header: { header_name: key.header } };
  if ('queryParameter' in key) return { query_parameter: { name: key.queryParameter } };
  if ('sourceIp' in key) return { connection_properties: { source_ip: true } };
  return {
    cookie: {
      name: key.cookie,
      ...(key.ttl !== undefined ? { ttl: durationJson(parseDuration(key.ttl)) } : {}),
      ...(key.path !== undefined ? { path: key.path } : {}),
    },
  };
}

/**
 * The route's hash policy: the version key when the split is drawn from it (it then also picks
 * the replica), else the replica keys; undefined when nothing is hashed.
 */
export function routeHashPolicy(service: Service, capabilities: ProxyCapabilities): ResourceJson[] | undefined {
  const key = versionHashKey(effectiveVersionAffinity(service, capabilities));
  const keys = key ? [key] : (service.affinity?.hash ?? []);
  return keys.length > 0 ? keys.map(hashPolicyJson) : undefined;
}

export function usesHashSplit(service: Service, capabilities: ProxyCapabilities): boolean {
  return versionHashKey(effectiveVersionAffinity(service, capabilities)) !== undefined;
}

/** Whether a version's cluster balances by consistent hash (replica affinity). */
export function replicaAffinity(service: Service): 'RING_HASH' | 'MAGLEV' | undefined {
  const affinity = service.affinity;
  if (!affinity || affinity.hash.length === 0) return undefined;
  return affinity.lb === 'maglev' ? 'MAGLEV' : 'RING_HASH';
}

/** RE2 full-match regex for a Cookie header carrying `name=value`. */
export function cookieRegex(name: string, value: string): string {
  const escape = (text: string): string => text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
  return `(.*;\\s*)?${escape(name)}=${escape(value)}(;.*)?`;
}

/** Set-Cookie value that puts a user in a version's cohort. */
export function cohortSetCookie(cookie: string, version: string, maxAgeSeconds: number): string {
  return `${cookie}=${version}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly`;
}

export function cohortSeconds(ttl: string): number {
  return Math.max(1, Math.floor(parseDuration(ttl) / 1000));
}
