// What each service's traffic depends on in one group's snapshot, per resource type, as a digest:
// its listener, its part of the listener's route configuration (the virtual hosts' domains and the
// service's own routes), its clusters and their endpoints; and one per listener (the listener
// alone), so that a rejected listener can be named. Pure over a translation and its snapshot.

import { createHash } from 'node:crypto';
import type { DesiredState } from '../model/types.js';
import { apiListenerName, apiRouteConfigName, clusterName, listenerName, routeConfigName } from '../translate/names.js';
import type { NamedResource, TranslatedResources } from '../translate/resources.js';
import type { Snapshot } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../xds/type-urls.js';

/** Per type, a digest of what a unit depends on; a type it has nothing of is absent. */
export type Footprint = Partial<Record<ResourceTypeUrl, string>>;

/** `service/<name>` or `listener/<name>` (desired-state names). */
export type FootprintKey = `service/${string}` | `listener/${string}`;

export function serviceKey(service: string): FootprintKey {
  return `service/${service}`;
}

export function listenerKey(listener: string): FootprintKey {
  return `listener/${listener}`;
}

/** The kind and desired-state name a key stands for. */
export function footprintUnit(key: FootprintKey): { kind: 'service' | 'listener'; name: string } {
  const slash = key.indexOf('/');
  return { kind: key.slice(0, slash) as 'service' | 'listener', name: key.slice(slash + 1) };
}

interface VirtualHostJson {
  domains?: unknown;
  routes?: { name?: unknown }[];
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Resource names with their versions, joined: equal exactly when the resources are. */
function versionsOf(snapshot: Snapshot, typeUrl: ResourceTypeUrl, names: readonly string[]): string | undefined {
  const parts: string[] = [];
  for (const name of names) {
    const resource = snapshot.resource(typeUrl, name);
    if (resource) parts.push(`${name}=${resource.version}`);
  }
  return parts.length === 0 ? undefined : parts.join(',');
}

/**
 * Builds the footprints of each group's snapshot of a revision. Route configurations are shared by
 * the services of a listener, so each is cut into per-service fragments, once per version: one
 * that another group or the previous revision had already is not cut again.
 */
export class FootprintBuilder {
  /** Per route-configuration version: each service's fragment digest (the previous revision's). */
  private fragments = new Map<string, Map<string, string>>();
  /** The same, for the revision being built. */
  private fragmentsNow = new Map<string, Map<string, string>>();

  /**
   * One group's footprints. `grpcClients`: the group of proxyless gRPC clients (an API listener and
   * a route configuration per service).
   */
  build(state: DesiredState, resources: TranslatedResources, snapshot: Snapshot, grpcClients: boolean): Map<FootprintKey, Footprint> {
    const footprints = new Map<FootprintKey, Footprint>();
    const routeJson = new Map(resources.routes.map((named) => [named.name, named]));
    for (const service of Object.values(state.services)) {
      const clusters = service.versions.map((version) => clusterName(service.name, version.name));
      const footprint: Footprint = {};
      const set = (typeUrl: ResourceTypeUrl, value: string | undefined): void => {
        if (value !== undefined) footprint[typeUrl] = value;
      };
      if (grpcClients) {
        set(LISTENER_TYPE, versionsOf(snapshot, LISTENER_TYPE, [apiListenerName(service.name)]));
        set(ROUTE_TYPE, versionsOf(snapshot, ROUTE_TYPE, [apiRouteConfigName(service.name)]));
      } else {
        set(LISTENER_TYPE, versionsOf(snapshot, LISTENER_TYPE, [listenerName(service.listener)]));
        set(ROUTE_TYPE, this.routeFragment(snapshot, routeJson, routeConfigName(service.listener), service.name));
      }
      set(CLUSTER_TYPE, versionsOf(snapshot, CLUSTER_TYPE, clusters));
      set(ENDPOINT_TYPE, versionsOf(snapshot, ENDPOINT_TYPE, clusters));
      footprints.set(serviceKey(service.name), footprint);
    }
    if (!grpcClients) {
      for (const listener of Object.keys(state.listeners)) {
        const version = versionsOf(snapshot, LISTENER_TYPE, [listenerName(listener)]);
        if (version !== undefined) footprints.set(listenerKey(listener), { [LISTENER_TYPE]: version });
      }
    }
    return footprints;
  }

  /** After the last group of a revision: fragments no group used are forgotten. */
  endRevision(): void {
    this.fragments = this.fragmentsNow;
    this.fragmentsNow = new Map();
  }

  private routeFragment(
    snapshot: Snapshot,
    routeJson: Map<string, NamedResource>,
    configName: string,
    service: string,
  ): string | undefined {
    const encoded = snapshot.resource(ROUTE_TYPE, configName);
    const named = routeJson.get(configName);
    if (!encoded || !named) return undefined;
    const perService = this.fragmentsNow.get(encoded.version) ?? this.fragments.get(encoded.version) ?? cutFragments(named);
    this.fragmentsNow.set(encoded.version, perService);
    return perService.get(service);
  }
}

/**
 * A route configuration's routes by the service they belong to (route names start with
 * `<service>_`, see names.ts; service names have no "_"), with the domains of their virtual host.
 */
function cutFragments(named: NamedResource): Map<string, string> {
  const parts = new Map<string, unknown[]>();
  const virtualHosts = (named.resource['virtual_hosts'] ?? []) as VirtualHostJson[];
  for (const virtualHost of virtualHosts) {
    const byService = new Map<string, unknown[]>();
    for (const route of virtualHost.routes ?? []) {
      const name = typeof route.name === 'string' ? route.name : '';
      const separator = name.indexOf('_');
      if (separator <= 0) continue;
      const service = name.slice(0, separator);
      let routes = byService.get(service);
      if (!routes) byService.set(service, (routes = []));
      routes.push(route);
    }
    for (const [service, routes] of byService) {
      let part = parts.get(service);
      if (!part) parts.set(service, (part = []));
      part.push({ domains: virtualHost.domains, routes });
    }
  }
  return new Map([...parts].map(([service, part]) => [service, digest(JSON.stringify(part))]));
}
