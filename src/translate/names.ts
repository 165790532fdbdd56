// The one place xDS resource names are made from desired-state names. Service and version
// names cannot contain "_", so joining with "_" is unambiguous; names are stable across
// restarts and replicas because they depend on nothing but the desired state.

import { createHash } from 'node:crypto';

const MAX_NAME_LENGTH = 120;

function capped(name: string): string {
  if (name.length <= MAX_NAME_LENGTH) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 12);
  return `${name.slice(0, MAX_NAME_LENGTH - 13)}~${digest}`;
}

export function listenerName(listener: string): string {
  return capped(listener);
}

export function routeConfigName(listener: string): string {
  return capped(listener);
}

export function clusterName(service: string, version: string): string {
  return capped(`${service}_${version}`);
}

export function virtualHostName(domains: readonly string[]): string {
  return capped(domains.join(','));
}

export function splitRouteName(service: string): string {
  return capped(`${service}_split`);
}

export function pinRouteName(service: string, version: string): string {
  return capped(`${service}_pin_${version}`);
}

/** The route that answers 400 to a pin header naming none of the service's versions ("-" keeps it apart from any `_pin_<version>`). */
export function unknownPinRouteName(service: string): string {
  return capped(`${service}_unknown-pin`);
}

/** The Listener a proxyless gRPC client asks for when its channel target is `xds:///<service>`. */
export function apiListenerName(service: string): string {
  return capped(service);
}

/** The RouteConfiguration a service's API listener takes from RDS. */
export function apiRouteConfigName(service: string): string {
  return capped(service);
}

export function ruleRouteName(service: string, index: number): string {
  return capped(`${service}_rule_${index}`);
}

export function cohortRouteName(service: string, version: string): string {
  return capped(`${service}_cohort_${version}`);
}

/** A version's cluster for shadow copies ("_shadow" cannot be a version name: names hold no "_"). */
export function shadowClusterName(service: string, version: string): string {
  return capped(`${service}_${version}_shadow`);
}

/** The split route's sampled twin that copies requests to the shadow candidate. */
export function shadowRouteName(service: string): string {
  return capped(`${service}_split_shadow`);
}
