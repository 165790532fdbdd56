// RouteConfiguration resources: one per listener, virtual hosts grouping the services that share
// domains. Per service, in order: a pin route per version (the operator's test path), a 400 for a
// pin header that names none of the versions, the A/B rules, the cohort-cookie routes, then the
// weighted split (with its mirror, after its sampled shadow twin: shadow.ts); every route that
// reaches a version stamps it on the response.

import { parseDuration } from '../model/duration.js';
import { SERVED_VERSION_HEADER, type Service, type VersionAffinity } from '../model/types.js';
import {
  STABLE_COHORT_SECONDS,
  cohortSeconds,
  cohortSetCookie,
  cookieRegex,
  effectiveVersionAffinity,
  routeHashPolicy,
  usesHashSplit,
  type ProxyCapabilities,
} from './affinity.js';
import {
  clusterName,
  cohortRouteName,
  pinRouteName,
  routeConfigName,
  ruleRouteName,
  splitRouteName,
  unknownPinRouteName,
  virtualHostName,
} from './names.js';
import { durationJson, type NamedResource, type ResourceJson } from './resources.js';
import { activeShadow } from '../model/traffic-policies.js';
import { shadowTwin } from './shadow.js';
import { integerWeights } from './weights.js';

/**
 * Retries only where the model never saw the request, so a prediction is never computed twice.
 * gRPC services get the same: gRPC's `unavailable` may come after the model ran (a server
 * shutting down mid-call), and `cancelled` is the caller's own decision; neither is retried.
 */
const SAFE_RETRY_POLICY = { retry_on: 'connect-failure,refused-stream,reset-before-request', num_retries: 2 };

/**
 * A header value Envoy adds as given: it reads added values as substitution formats, where "%"
 * starts a command (a cookie name may hold "%"), so each "%" is written "%%".
 */
function literalHeaderValue(text: string): string {
  return text.replaceAll('%', '%%');
}

function servedVersionHeader(version: string): ResourceJson {
  return { header: { key: SERVED_VERSION_HEADER, value: literalHeaderValue(version) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

interface RouteContext {
  service: Service;
  timeout: string;
  /** For gRPC services: the caller's `grpc-timeout` is the deadline, capped at the service's timeout. */
  grpcDeadline: ResourceJson | undefined;
  hashPolicy: ResourceJson[] | undefined;
  capabilities: ProxyCapabilities;
}

/** A route that sends everything it matches to one version. */
function versionRoute(context: RouteContext, name: string, match: ResourceJson, version: string, extraHeaders: ResourceJson[] = []): ResourceJson {
  return {
    name,
    match,
    route: {
      cluster: clusterName(context.service.name, version),
      timeout: context.timeout,
      ...(context.grpcDeadline ? { max_stream_duration: context.grpcDeadline } : {}),
      retry_policy: SAFE_RETRY_POLICY,
      ...(context.hashPolicy ? { hash_policy: context.hashPolicy } : {}),
    },
    response_headers_to_add: [servedVersionHeader(version), ...extraHeaders],
  };
}

function pinRoutes(context: RouteContext): ResourceJson[] {
  const { service } = context;
  return service.versions.map((version) =>
    versionRoute(
      context,
      pinRouteName(service.name, version.name),
      { prefix: service.match.prefix, headers: [{ name: service.pinHeader, string_match: { exact: version.name } }] },
      version.name,
    ),
  );
}

/** The status Envoy answers itself when the pin header names none of the service's versions. */
const UNKNOWN_PIN_STATUS = 400;

/**
 * The body of that answer: the header and the versions it may name, never the value sent (it is
 * a static string, so nothing a client sends is reflected back).
 */
function unknownPinBody(service: Service): string {
  return `unknown version in ${service.pinHeader}; known versions: ${service.versions.map((v) => v.name).join(', ')}\n`;
}

/**
 * After the pin routes, a request that still carries the pin header named no version (matching
 * is exact and case-sensitive): Envoy answers 400 itself instead of letting the split serve a
 * mistyped pin. Values an A/B rule matches on the pin header are left to that rule.
 */
function unknownPinRoute(context: RouteContext): ResourceJson {
  const { service } = context;
  const ruleValues = new Set<string>();
  for (const rule of service.rules ?? []) {
    const value = rule.match.headers?.[service.pinHeader];
    if (value !== undefined) ruleValues.add(value);
  }
  return {
    name: unknownPinRouteName(service.name),
    match: {
      prefix: service.match.prefix,
      headers: [
        { name: service.pinHeader, present_match: true },
        ...[...ruleValues].sort().map((value) => ({ name: service.pinHeader, string_match: { exact: value }, invert_match: true })),
      ],
    },
    direct_response: { status: UNKNOWN_PIN_STATUS, body: { inline_string: unknownPinBody(service) } },
  };
}

function cookieMatcher(name: string, value: string): ResourceJson {
  return { name: 'cookie', string_match: { safe_regex: { regex: cookieRegex(name, value) } } };
}

/** A/B rules: explicit cohorts sent to one version whatever the weights. */
function ruleRoutes(context: RouteContext): ResourceJson[] {
  const { service } = context;
  return (service.rules ?? []).map((rule, index) => {
    const headers = [
      ...Object.entries(rule.match.headers ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, value]) => ({ name, string_match: { exact: value } })),
      ...Object.entries(rule.match.cookies ?? {})
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, value]) => cookieMatcher(name, value)),
    ];
    return versionRoute(context, ruleRouteName(service.name, index), { prefix: service.match.prefix, headers }, rule.to);
  });
}

/** Cohort-cookie mode: a user holding a version's cookie stays there while that version has traffic. */
function cohortRoutes(context: RouteContext, cookie: string): ResourceJson[] {
  const { service } = context;
  return integerWeights(service)
    .filter(({ weight }) => weight > 0)
    .map(({ version }) =>
      versionRoute(context, cohortRouteName(service.name, version), { prefix: service.match.prefix, headers: [cookieMatcher(cookie, version)] }, version),
    );
}

function splitRoute(context: RouteContext, affinity: VersionAffinity): ResourceJson {
  const { service } = context;
  const cohortCookie = affinity.by === 'cohortCookie' ? affinity : undefined;
  const mirror = service.mirror;
  const cohortMaxAge = (ttl: string, version: string): number =>
    version === service.stable ? Math.min(STABLE_COHORT_SECONDS, cohortSeconds(ttl)) : cohortSeconds(ttl);
  return {
    name: splitRouteName(service.name),
    match: { prefix: service.match.prefix },
    route: {
      timeout: context.timeout,
      ...(context.grpcDeadline ? { max_stream_duration: context.grpcDeadline } : {}),
      retry_policy: SAFE_RETRY_POLICY,
      ...(context.hashPolicy ? { hash_policy: context.hashPolicy } : {}),
      ...(mirror && mirror.percent > 0
        ? {
            request_mirror_policies: [
              {
                cluster: clusterName(service.name, mirror.to),
                runtime_fraction: { default_value: { numerator: Math.round(mirror.percent * 100), denominator: 'TEN_THOUSAND' } },
              },
            ],
          }
        : {}),
      weighted_clusters: {
        clusters: integerWeights(service).map(({ version, weight }) => ({
          name: clusterName(service.name, version),
          weight,
          response_headers_to_add: [
            servedVersionHeader(version),
            ...(cohortCookie
              ? [
                  {
                    header: { key: 'set-cookie', value: literalHeaderValue(cohortSetCookie(cohortCookie.name, version, cohortMaxAge(cohortCookie.ttl, version))) },
                    append_action: 'APPEND_IF_EXISTS_OR_ADD',
                  },
                ]
              : []),
          ],
        })),
        ...(usesHashSplit(service, context.capabilities) ? { use_hash_policy: true } : {}),
      },
    },
  };
}

/** Longer prefixes first so the most specific service wins; ties by name for a stable order. */
function bySpecificity(a: Service, b: Service): number {
  const byLength = b.match.prefix.length - a.match.prefix.length;
  if (byLength !== 0) return byLength;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function serviceRoutes(service: Service, capabilities: ProxyCapabilities): ResourceJson[] {
  const timeout = durationJson(parseDuration(service.timeout));
  const context: RouteContext = {
    service,
    timeout,
    // A gRPC call's deadline is min(grpc-timeout, the limit); without the header, the limit ("0s": none).
    grpcDeadline: service.protocol === 'grpc' ? { grpc_timeout_header_max: timeout } : undefined,
    hashPolicy: routeHashPolicy(service, capabilities),
    capabilities,
  };
  const affinity = effectiveVersionAffinity(service, capabilities);
  const split = splitRoute(context, affinity);
  const shadow = activeShadow(service);
  return [
    ...pinRoutes(context),
    unknownPinRoute(context),
    ...ruleRoutes(context),
    ...(affinity.by === 'cohortCookie' ? cohortRoutes(context, affinity.name) : []),
    ...(shadow ? [shadowTwin(split, service, shadow)] : []),
    split,
  ];
}

/** Groups domains that are served by exactly the same services into one virtual host. */
function virtualHosts(services: Service[], capabilities: ProxyCapabilities): ResourceJson[] {
  const servicesByDomain = new Map<string, Service[]>();
  for (const service of services) {
    for (const domain of service.hosts) {
      const list = servicesByDomain.get(domain) ?? [];
      list.push(service);
      servicesByDomain.set(domain, list);
    }
  }
  const domainsByServiceSet = new Map<string, { domains: string[]; services: Service[] }>();
  for (const [domain, list] of servicesByDomain) {
    const sorted = [...list].sort(bySpecificity);
    const key = sorted.map((s) => s.name).join('\n');
    const group = domainsByServiceSet.get(key) ?? { domains: [], services: sorted };
    group.domains.push(domain);
    domainsByServiceSet.set(key, group);
  }
  return [...domainsByServiceSet.values()]
    .map(({ domains, services: members }) => {
      const sortedDomains = [...domains].sort();
      return {
        name: virtualHostName(sortedDomains),
        domains: sortedDomains,
        routes: members.flatMap((service) => serviceRoutes(service, capabilities)),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function buildRouteConfiguration(listener: string, services: Service[], capabilities: ProxyCapabilities): NamedResource {
  const name = routeConfigName(listener);
  return { name, resource: { name, virtual_hosts: virtualHosts(services, capabilities) } };
}
