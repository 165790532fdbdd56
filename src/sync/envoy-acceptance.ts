// The store's pre-commit check that Envoy would accept a desired state: it translates the
// candidate for each Envoy flavour sluice serves (with and without hash-split affinity, see
// node-groups.ts) and runs xds/resource-rules over the result, refusing only what the change
// introduces. It sends nothing and keeps nothing but the checker's cache.

import { SluiceError } from '../errors.js';
import type { DesiredState } from '../model/types.js';
import { CURRENT_ENVOY, usesHashSplit, type ProxyCapabilities } from '../translate/affinity.js';
import type { TranslatedResources } from '../translate/resources.js';
import { translateOnce } from './translation-memo.js';
import { ResourceRuleCache, type CheckedResource, type ResourceViolation } from '../xds/resource-rules.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SHORT_TYPE_NAMES, type ResourceTypeUrl } from '../xds/type-urls.js';

const LEGACY_ENVOY: ProxyCapabilities = { hashSplit: false };

/**
 * The flavours whose resources differ with the desired state: current Envoys and, when some
 * service uses key-based version affinity, those before 1.36 (cohort-cookie routes instead). The
 * config source (ADS or the per-type services) is a constant block that no user value reaches,
 * so ADS stands for all. Proxyless gRPC clients are not checked: they do not apply Envoy's
 * validation rules (their API listener carries no `stat_prefix`, which Envoy would require), and
 * every user value they receive also reaches Envoy's resources.
 */
function flavoursFor(state: DesiredState): ProxyCapabilities[] {
  const legacyDiffers = Object.values(state.services).some((service) => usesHashSplit(service, CURRENT_ENVOY));
  return legacyDiffers ? [CURRENT_ENVOY, LEGACY_ENVOY] : [CURRENT_ENVOY];
}

interface Located extends ResourceViolation {
  /** The service the resource (or route) belongs to, if any. */
  service: string | undefined;
}

function resourcesOf(translated: TranslatedResources): CheckedResource[] {
  const typed = (typeUrl: ResourceTypeUrl, list: TranslatedResources['listeners']): CheckedResource[] =>
    list.map(({ name, resource }) => ({ typeUrl, name, resource }));
  return [
    ...typed(LISTENER_TYPE, translated.listeners),
    ...typed(ROUTE_TYPE, translated.routes),
    ...typed(CLUSTER_TYPE, translated.clusters),
    ...typed(ENDPOINT_TYPE, translated.endpoints),
  ];
}

/** Resource and route names start with the service name and "_" (which service names cannot hold). */
function serviceNamed(name: unknown, state: DesiredState): string | undefined {
  if (typeof name !== 'string') return undefined;
  const candidate = name.split('_')[0]!;
  return Object.hasOwn(state.services, candidate) ? candidate : undefined;
}

/** The service a violation belongs to: a cluster's or endpoint's by name, a route's by the route it is in. */
function serviceOf(violation: ResourceViolation, resource: unknown, state: DesiredState): string | undefined {
  if (violation.typeUrl !== ROUTE_TYPE) return serviceNamed(violation.resourceName, state);
  const match = /^\/virtual_hosts\/(\d+)(?:\/routes\/(\d+))?/.exec(violation.path);
  if (!match) return undefined;
  const host = (resource as { virtual_hosts?: { routes?: { name?: unknown }[] }[] }).virtual_hosts?.[Number(match[1])];
  return serviceNamed(host?.routes?.[Number(match[2] ?? 0)]?.name, state);
}

function describe(violation: Located): string {
  const where = `${SHORT_TYPE_NAMES[violation.typeUrl as ResourceTypeUrl] ?? violation.typeUrl} resource "${violation.resourceName}", field ${violation.path || '/'}`;
  const given = violation.value === undefined ? 'is missing' : `is ${JSON.stringify(violation.value)}`;
  return `${where} ${given} but ${violation.message} (rule ${violation.rule})`;
}

function refusal(violations: Located[]): SluiceError {
  const first = violations[0]!;
  const owner = first.service === undefined ? 'Envoy would reject this change' : `Envoy would reject service "${first.service}"`;
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
  const path = first.service === undefined ? undefined : `/services/${first.service}`;
  return new SluiceError('SLUICE_ENVOY_WOULD_REJECT', `${owner}: ${describe(first)}${more}.`, path);
}

/** One violation, independent of where other services' routes sit in a shared route table. */
function identity(violation: Located): string {
  return [violation.service ?? violation.resourceName, violation.typeUrl, violation.rule, JSON.stringify(violation.value)].join('\n');
}

/**
 * The check to give the store. A violation the current state already holds is not the change's
 * fault (a state committed before this check existed), so only new ones refuse a change: an
 * unrelated change or a rollback still goes through.
 */
export function envoyAcceptanceCheck(): (next: DesiredState, current: DesiredState) => void {
  const cache = new ResourceRuleCache();
  const known = new WeakMap<DesiredState, Located[]>();
  const violationsOf = (state: DesiredState): Located[] => {
    let found = known.get(state);
    if (found === undefined) {
      const resources = flavoursFor(state).flatMap((capabilities) => resourcesOf(translateOnce(state, { capabilities })));
      found = cache
        .check(resources)
        .flatMap(({ resource, violations }) => violations.map((violation) => ({ ...violation, service: serviceOf(violation, resource, state) })));
      known.set(state, found);
    }
    return found;
  };
  return (next, current) => {
    const already = new Set(violationsOf(current).map(identity));
    const added = violationsOf(next).filter((violation) => !already.has(identity(violation)));
    if (added.length > 0) throw refusal(added);
  };
}
