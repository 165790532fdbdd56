// The Envoy side of a shadow: which requests are copied (a sampled twin of the split route that
// mirrors to the candidate's shadow cluster), and how both answers reach sluice (the ext_proc
// filter in observability mode, on the user's route and as an upstream filter of the shadow
// cluster). Pure; names come from names.ts, the collector's address from the bootstrap's xDS cluster.

import { SHADOW_SERVICE_METADATA, SHADOW_SIDE_METADATA, type Service, type Shadow, type ShadowSide } from '../model/types.js';
import { XDS_CLUSTER_NAME } from './config-source.js';
import { shadowClusterName, shadowRouteName } from './names.js';
import type { ResourceJson } from './resources.js';

export const EXT_PROC_FILTER = 'envoy.filters.http.ext_proc';

function metadata(service: string, side: ShadowSide): ResourceJson[] {
  return [
    { key: SHADOW_SERVICE_METADATA, value: service },
    { key: SHADOW_SIDE_METADATA, value: side },
  ];
}

/**
 * Observability mode: Envoy sends and goes on, never waits for sluice, and carries on if sluice
 * cannot be reached. Only the request id and the answer are sent: response headers, the body as it
 * streams, and the trailers (where gRPC puts its status).
 */
function externalProcessor(grpcService: ResourceJson): ResourceJson {
  return {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
    grpc_service: grpcService,
    observability_mode: true,
    failure_mode_allow: true,
    processing_mode: {
      request_header_mode: 'SEND',
      response_header_mode: 'SEND',
      request_body_mode: 'NONE',
      response_body_mode: 'STREAMED',
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SEND',
    },
    forward_rules: {
      allowed_headers: {
        patterns: ['x-request-id', ':status', 'content-type', 'grpc-status', 'x-sluice-version'].map((exact) => ({ exact })),
      },
    },
  };
}

/**
 * In every listener: off unless a route turns it on. Envoy accepts it even where its bootstrap has
 * no cluster of that name (then the reports fail and users are served as always).
 */
export function shadowListenerFilter(): ResourceJson {
  return { name: EXT_PROC_FILTER, disabled: true, typed_config: externalProcessor({ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }) };
}

/** Turns the listener's ext_proc filter on for one route, naming the service and the user's side. */
function userSideFilterConfig(service: string): ResourceJson {
  return {
    [EXT_PROC_FILTER]: {
      '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig',
      config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute',
        overrides: { grpc_initial_metadata: metadata(service, 'user') },
      },
    },
  };
}

/**
 * The split route's sampled twin, matched first: the same answer for the user, plus a copy to the
 * candidate's shadow cluster, plus the user's answer reported to sluice.
 */
export function shadowTwin(split: ResourceJson, service: Service, shadow: Shadow): ResourceJson {
  const match = split['match'] as ResourceJson;
  const route = split['route'] as ResourceJson;
  return {
    ...split,
    name: shadowRouteName(service.name),
    match: {
      ...match,
      runtime_fraction: {
        default_value: { numerator: Math.round(shadow.percent * 100), denominator: 'TEN_THOUSAND' },
        runtime_key: `sluice.shadow.${service.name}`,
      },
    },
    route: { ...route, request_mirror_policies: [{ cluster: shadowClusterName(service.name, shadow.to) }] },
    typed_per_filter_config: userSideFilterConfig(service.name),
  };
}

/**
 * The candidate's cluster for copies: its endpoints (the same EDS resource, or the same inline
 * ones), no health checks of its own, and the ext_proc filter upstream so its answers reach sluice.
 */
export function shadowCluster(service: Service, shadow: Shadow, versionCluster: ResourceJson): { name: string; resource: ResourceJson } {
  const name = shadowClusterName(service.name, shadow.to);
  const { health_checks: _checks, outlier_detection: _outliers, typed_extension_protocol_options: options, ...rest } = versionCluster;
  const key = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
  const protocolOptions = (options as Record<string, ResourceJson>)[key];
  const loadAssignment = rest['load_assignment'] as ResourceJson | undefined;
  return {
    name,
    resource: {
      ...rest,
      name,
      ...(loadAssignment ? { load_assignment: { ...loadAssignment, cluster_name: name } } : {}),
      typed_extension_protocol_options: {
        [key]: {
          ...protocolOptions,
          http_filters: [
            {
              name: EXT_PROC_FILTER,
              typed_config: externalProcessor({
                envoy_grpc: { cluster_name: XDS_CLUSTER_NAME },
                initial_metadata: metadata(service.name, 'candidate'),
              }),
            },
            {
              name: 'envoy.filters.http.upstream_codec',
              typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec' },
            },
          ],
        },
      },
    },
  };
}
