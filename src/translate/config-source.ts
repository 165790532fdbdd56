// How the resources sluice sends tell Envoy where to fetch the resources they reference (routes
// of a listener, endpoints of a cluster): over the same ADS stream, or — for an Envoy that uses
// the per-type discovery services — over a separate stream to sluice's static xDS cluster.

import type { ResourceJson } from './resources.js';

export type ConfigSource =
  | { kind: 'ads' }
  | { kind: 'per-type'; apiType: 'GRPC' | 'DELTA_GRPC'; clusterName: string };

export const ADS: ConfigSource = { kind: 'ads' };

/** The name the bootstraps in envoy/ give the static cluster that reaches sluice. */
export const XDS_CLUSTER_NAME = 'xds_cluster';

export function configSourceJson(source: ConfigSource): ResourceJson {
  if (source.kind === 'ads') return { ads: {}, resource_api_version: 'V3' };
  return {
    api_config_source: {
      api_type: source.apiType,
      transport_api_version: 'V3',
      grpc_services: [{ envoy_grpc: { cluster_name: source.clusterName } }],
    },
    resource_api_version: 'V3',
  };
}
