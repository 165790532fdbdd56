// PURE: desired state → xDS resources, in two flavours: for Envoy (`translate`) and for proxyless
// gRPC clients (`translateForGrpcClients`). No I/O, clock, randomness or logger. The same state
// always yields the same resources in the same order, so their encoded bytes (and the
// versions hashed from them) are identical across restarts and replicas.

import type { DesiredState, Service } from '../model/types.js';
import { buildApiListener, buildApiRouteConfiguration } from './api-listeners.js';
import { CURRENT_ENVOY, type ProxyCapabilities } from './affinity.js';
import { checkResources } from './check.js';
import { ADS, type ConfigSource } from './config-source.js';
import { buildClusters } from './clusters.js';
import { buildEndpoints } from './endpoints.js';
import { buildGrpcClusters, buildGrpcEndpoints, servesGrpcClients } from './grpc-clusters.js';
import { buildListener } from './listeners.js';
import { clusterName } from './names.js';
import { byName, type NamedResource, type TranslatedResources } from './resources.js';
import { buildRouteConfiguration } from './routes.js';
import { activeShadow } from '../model/traffic-policies.js';
import { shadowCluster } from './shadow.js';

/** Which Envoys a translation is for: how they fetch routes and endpoints, and what they support. */
export interface EnvoyFlavour {
  configSource: ConfigSource;
  capabilities: ProxyCapabilities;
}

export const DEFAULT_FLAVOUR: EnvoyFlavour = { configSource: ADS, capabilities: CURRENT_ENVOY };

/** Resources for Envoy (over ADS and with current features unless `flavour` says otherwise). */
/** A version's clusters, and the shadow candidate's copy cluster when the service shadows. */
function withShadowCluster(service: Service, clusters: NamedResource[]): NamedResource[] {
  const shadow = activeShadow(service);
  const source = shadow && clusters.find((c) => c.name === clusterName(service.name, shadow.to));
  return shadow && source ? [...clusters, shadowCluster(service, shadow, source.resource)] : clusters;
}

export function translate(state: DesiredState, flavour: Partial<EnvoyFlavour> = {}): TranslatedResources {
  const { configSource, capabilities } = { ...DEFAULT_FLAVOUR, ...flavour };
  // Only the services on the listeners given (a node's selection); their clusters come with them.
  const services = Object.values(state.services).filter((service) => service.listener in state.listeners);
  const servicesByListener = new Map<string, Service[]>();
  for (const service of services) {
    const list = servicesByListener.get(service.listener) ?? [];
    list.push(service);
    servicesByListener.set(service.listener, list);
  }
  const listeners = Object.values(state.listeners);
  const resources: TranslatedResources = {
    listeners: listeners.map((listener) => buildListener(listener, configSource)).sort(byName),
    routes: listeners
      .map((listener) => buildRouteConfiguration(listener.name, servicesByListener.get(listener.name) ?? [], capabilities))
      .sort(byName),
    clusters: services.flatMap((service) => withShadowCluster(service, buildClusters(service, configSource))).sort(byName),
    endpoints: services.flatMap(buildEndpoints).sort(byName),
  };
  checkResources(resources);
  return resources;
}

/**
 * Every service a gRPC client can reach, whatever its Envoy listener: an API listener and a route
 * configuration named after the service, and its clusters. A service with a version of several
 * host-name endpoints is left out (gRPC has no STRICT_DNS), so its channels find no listener.
 */
export function translateForGrpcClients(state: DesiredState): TranslatedResources {
  const services = Object.values(state.services).filter(servesGrpcClients);
  const resources: TranslatedResources = {
    listeners: services.map(buildApiListener).sort(byName),
    routes: services.map(buildApiRouteConfiguration).sort(byName),
    clusters: services.flatMap(buildGrpcClusters).sort(byName),
    endpoints: services.flatMap(buildGrpcEndpoints).sort(byName),
  };
  checkResources(resources);
  return resources;
}
