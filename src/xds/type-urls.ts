// The xDS resource types sluice serves, their type URLs and the order in which a change is
// pushed (make-before-break). Constants only; nothing here encodes or sends.

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

export const LISTENER_TYPE = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const ENDPOINT_TYPE = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export type ResourceTypeUrl =
  | typeof LISTENER_TYPE
  | typeof ROUTE_TYPE
  | typeof CLUSTER_TYPE
  | typeof ENDPOINT_TYPE;

/** Push order: clusters, their endpoints, listeners, then the routes that reference clusters. */
export const PUSH_ORDER: readonly ResourceTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE];

/** Types whose SotW subscription is a wildcard and whose responses must carry the full set. */
export const WILDCARD_TYPES: ReadonlySet<string> = new Set([LISTENER_TYPE, CLUSTER_TYPE]);

export const SHORT_TYPE_NAMES = {
  [LISTENER_TYPE]: 'listeners',
  [ROUTE_TYPE]: 'routes',
  [CLUSTER_TYPE]: 'clusters',
  [ENDPOINT_TYPE]: 'endpoints',
} as const satisfies Record<ResourceTypeUrl, string>;

/** Asked for every request: plain comparisons (a lookup by a freshly decoded string would hash it first). */
export function isResourceTypeUrl(typeUrl: string): typeUrl is ResourceTypeUrl {
  return typeUrl === ROUTE_TYPE || typeUrl === CLUSTER_TYPE || typeUrl === LISTENER_TYPE || typeUrl === ENDPOINT_TYPE;
}

export function messageNameOf(typeUrl: string): string {
  return typeUrl.startsWith(TYPE_URL_PREFIX) ? typeUrl.slice(TYPE_URL_PREFIX.length) : typeUrl;
}
