// PURE: desired state → Envoy resources. No I/O, clock, randomness or logger. The same state
// always yields the same resources in the same order, so their encoded bytes (and the
// versions hashed from them) are identical across restarts and replicas.

import type { DesiredState, Service } from '../model/types.js';
import { checkResources } from './check.js';
import { buildClusters } from './clusters.js';
import { buildEndpoints } from './endpoints.js';
import { buildListener } from './listeners.js';
import { byName, type TranslatedResources } from './resources.js';
import { buildRouteConfiguration } from './routes.js';

export function translate(state: DesiredState): TranslatedResources {
  const services = Object.values(state.services);
  const servicesByListener = new Map<string, Service[]>();
  for (const service of services) {
    const list = servicesByListener.get(service.listener) ?? [];
    list.push(service);
    servicesByListener.set(service.listener, list);
  }
  const listeners = Object.values(state.listeners);
  const resources: TranslatedResources = {
    listeners: listeners.map(buildListener).sort(byName),
    routes: listeners
      .map((listener) => buildRouteConfiguration(listener.name, servicesByListener.get(listener.name) ?? []))
      .sort(byName),
    clusters: services.flatMap(buildClusters).sort(byName),
    endpoints: services.flatMap(buildEndpoints).sort(byName),
  };
  checkResources(resources);
  return resources;
}
