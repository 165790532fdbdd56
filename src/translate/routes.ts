// RouteConfiguration resources: one per listener, virtual hosts grouping the services that share
// domains. Per service, a pin route per version (the operator's test path) comes before the
// weighted split; every route stamps the serving version on the response.

import { parseDuration } from '../model/duration.js';
import { SERVED_VERSION_HEADER, type Service } from '../model/types.js';
import { clusterName, pinRouteName, routeConfigName, splitRouteName, virtualHostName } from './names.js';
import { durationJson, type NamedResource, type ResourceJson } from './resources.js';
import { integerWeights } from './weights.js';

/**
 * Retries only where the model never saw the request, so a prediction is never computed twice.
 */
const SAFE_RETRY_POLICY = { retry_on: 'connect-failure,refused-stream,reset-before-request', num_retries: 2 };

function servedVersionHeader(version: string): ResourceJson {
  return { header: { key: SERVED_VERSION_HEADER, value: version }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

function pinRoutes(service: Service, timeout: string): ResourceJson[] {
  return service.versions.map((version) => ({
    name: pinRouteName(service.name, version.name),
    match: {
      prefix: service.match.prefix,
      headers: [{ name: service.pinHeader, string_match: { exact: version.name } }],
    },
    route: { cluster: clusterName(service.name, version.name), timeout, retry_policy: SAFE_RETRY_POLICY },
    response_headers_to_add: [servedVersionHeader(version.name)],
  }));
}

function splitRoute(service: Service, timeout: string): ResourceJson {
  return {
    name: splitRouteName(service.name),
    match: { prefix: service.match.prefix },
    route: {
      timeout,
      retry_policy: SAFE_RETRY_POLICY,
      weighted_clusters: {
        clusters: integerWeights(service).map(({ version, weight }) => ({
          name: clusterName(service.name, version),
          weight,
          response_headers_to_add: [servedVersionHeader(version)],
        })),
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

function serviceRoutes(service: Service): ResourceJson[] {
  const timeout = durationJson(parseDuration(service.timeout));
  return [...pinRoutes(service, timeout), splitRoute(service, timeout)];
}

/** Groups domains that are served by exactly the same services into one virtual host. */
function virtualHosts(services: Service[]): ResourceJson[] {
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
        routes: members.flatMap(serviceRoutes),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function buildRouteConfiguration(listener: string, services: Service[]): NamedResource {
  const name = routeConfigName(listener);
  return { name, resource: { name, virtual_hosts: virtualHosts(services) } };
}
