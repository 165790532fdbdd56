// A service's traffic policies in words for the service page: version affinity and replica
// hashing, the A/B rules, the mirror, health checking and outlier detection, the timeout. Pure.

import type { ServiceAnswer } from '../../src/api/desired-state.js';

type Affinity = NonNullable<ServiceAnswer['affinity']>;
type Rule = NonNullable<ServiceAnswer['rules']>[number];

export function affinityText(affinity: ServiceAnswer['affinity']): string {
  if (affinity === undefined) return 'None: each request is split at random by the weights; any replica of a version serves it.';
  return `${versionAffinityText(affinity.version)} ${hashText(affinity)}`;
}

function versionAffinityText(version: Affinity['version']): string {
  switch (version.by) {
    case 'none':
      return 'Versions: each request is split at random by the weights.';
    case 'header':
      return `Versions: a request's "${version.name}" header keeps it on one version while weights change.`;
    case 'cookie':
      return `Versions: the "${version.name}" cookie keeps a user on one version while weights change.`;
    case 'query':
      return `Versions: the "${version.name}" query parameter keeps a user on one version while weights change.`;
    case 'sourceIp':
      return "Versions: the client's address keeps it on one version while weights change.";
    case 'cohortCookie':
      return `Versions: the cohort cookie "${version.name}" (kept ${version.ttl}) keeps a user on one version.`;
  }
}

function hashText(affinity: Affinity): string {
  if (affinity.hash.length === 0) return 'Replicas: round robin inside a version.';
  const keys = affinity.hash.map((key) => {
    if ('header' in key) return `header "${key.header}"`;
    if ('cookie' in key) return `cookie "${key.cookie}"${key.ttl === undefined ? '' : ` (set for ${key.ttl} when missing)`}`;
    if ('queryParameter' in key) return `query parameter "${key.queryParameter}"`;
    return 'client address';
  });
  return `Replicas: the same ${keys.join(', then ')} reaches the same replica (${affinity.lb === 'ringHash' ? 'ring hash' : 'Maglev'}).`;
}

export function ruleText(rule: Rule): string {
  const conditions = [
    ...Object.entries(rule.match.headers ?? {}).map(([name, value]) => `header ${name} = "${value}"`),
    ...Object.entries(rule.match.cookies ?? {}).map(([name, value]) => `cookie ${name} = "${value}"`),
  ];
  return `Requests with ${conditions.join(' and ')} go to ${rule.to}, whatever the weights.`;
}

export function mirrorText(mirror: ServiceAnswer['mirror']): string {
  return mirror === undefined ? 'None.' : `${mirror.percent}% of requests are copied to ${mirror.to}; its answers are discarded.`;
}

export function healthText(service: ServiceAnswer): string[] {
  const lines: string[] = [];
  const check = service.healthCheck;
  if (check !== undefined) {
    lines.push(
      `Active: Envoy asks ${check.path} every ${check.interval} (timeout ${check.timeout}); ${check.unhealthyThreshold} failures mark a replica unhealthy, ${check.healthyThreshold} successes healthy again.`,
    );
  }
  const outliers = service.outlierDetection;
  if (outliers !== undefined) {
    lines.push(
      `Passive: ${outliers.consecutive5xx} 5xx answers in a row eject a replica for ${outliers.baseEjectionTime} (checked every ${outliers.interval}, at most ${outliers.maxEjectionPercent}% ejected).`,
    );
  }
  if (lines.length === 0) lines.push('No health checking: every endpoint is used.');
  return lines;
}
