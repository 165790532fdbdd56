// Cluster and ClusterLoadAssignment resources for proxyless gRPC clients, named like Envoy's. gRPC
// takes EDS (IP endpoints) or LOGICAL_DNS (exactly one endpoint), has no STRICT_DNS, always speaks
// HTTP/2 and ignores Envoy's upstream protocol options and connect timeout: none are sent. Not for Envoy.

import type { Endpoint, Service, Version } from '../model/types.js';
import { usesEds } from './clusters.js';
import { clusterName } from './names.js';
import type { NamedResource, ResourceJson } from './resources.js';
import { ADS, configSourceJson } from './config-source.js';

const ADS_CONFIG_SOURCE = configSourceJson(ADS);

/** Whether a gRPC client can reach every version of the service (else the service is not offered). */
export function servesGrpcClients(service: Service): boolean {
  return service.versions.every((version) => usesEds(version) || version.endpoints.length === 1);
}

/** gRPC rejects a whole assignment that lists one address twice. */
function distinct(endpoints: Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  return endpoints.filter(({ address, port }) => {
    const key = `${address}:${port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function lbEndpoint({ address, port }: Endpoint): ResourceJson {
  return { endpoint: { address: { socket_address: { address, port_value: port } } } };
}

/**
 * gRPC rejects an assignment whose localities lack `locality`, and silently drops a locality
 * without `load_balancing_weight` (its calls then fail UNAVAILABLE): one unnamed locality of weight 1.
 */
function edsAssignment(name: string, version: Version): ResourceJson {
  return {
    cluster_name: name,
    endpoints: [{ locality: {}, load_balancing_weight: 1, lb_endpoints: distinct(version.endpoints).map(lbEndpoint) }],
  };
}

export function buildGrpcClusters(service: Service): NamedResource[] {
  return service.versions.map((version) => {
    const name = clusterName(service.name, version.name);
    const discovery: ResourceJson = usesEds(version)
      ? { type: 'EDS', eds_cluster_config: { service_name: name, eds_config: ADS_CONFIG_SOURCE } }
      : { type: 'LOGICAL_DNS', load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: version.endpoints.map(lbEndpoint) }] } };
    return { name, resource: { name, ...discovery } };
  });
}

export function buildGrpcEndpoints(service: Service): NamedResource[] {
  return service.versions.filter(usesEds).map((version) => {
    const name = clusterName(service.name, version.name);
    return { name, resource: edsAssignment(name, version) };
  });
}
