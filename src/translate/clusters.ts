// Cluster resources: one per service version, in the service's upstream protocol (HTTP/1.1,
// HTTP/2, gRPC), balanced by consistent hash when it asks for replica affinity, with its outlier
// detection and HTTP or gRPC health checks. IP endpoints only: an EDS cluster over ADS; a version
// with a host name: a STRICT_DNS cluster carrying its endpoints inline (EDS takes IPs only).

import { isIP } from 'node:net';
import { parseDuration } from '../model/duration.js';
import { DEFAULT_PROTOCOL, type HealthCheck, type Service, type UpstreamProtocol, type Version } from '../model/types.js';
import { replicaAffinity } from './affinity.js';
import { configSourceJson, type ConfigSource } from './config-source.js';
import { clusterName } from './names.js';
import { durationJson, type NamedResource, type ResourceJson } from './resources.js';

const CONNECT_TIMEOUT = '2s';
/**
 * Upstream HTTP/1.1 (or HTTP/2 without TLS for `http2` and `grpc` services) with an idle timeout
 * shorter than common server keep-alives (Node: 5 s by default, the demo models: 75 s), so Envoy
 * never reuses a connection the server is closing.
 */
function upstreamProtocolOptions(protocol: UpstreamProtocol): ResourceJson {
  return {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      common_http_protocol_options: { idle_timeout: '4s' },
      explicit_http_config: protocol === 'http1' ? { http_protocol_options: {} } : { http2_protocol_options: {} },
    },
  };
}

/** What the active health check asks: gRPC's health service, or an HTTP path in the service's own HTTP version. */
function healthTarget(check: HealthCheck, protocol: UpstreamProtocol): ResourceJson {
  if (protocol === 'grpc') return { grpc_health_check: check.grpcService ? { service_name: check.grpcService } : {} };
  return { http_health_check: { path: check.path, ...(protocol === 'http2' ? { codec_client_type: 'HTTP2' } : {}) } };
}

export function protocol(service: Service): UpstreamProtocol {
  return service.protocol ?? DEFAULT_PROTOCOL;
}

export function usesEds(version: Version): boolean {
  return version.endpoints.every((endpoint) => isIP(endpoint.address) !== 0);
}

export function loadAssignment(name: string, version: Version): ResourceJson {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: version.endpoints.map((endpoint) => ({
          endpoint: { address: { socket_address: { address: endpoint.address, port_value: endpoint.port } } },
        })),
      },
    ],
  };
}

function healthJson(service: Service): ResourceJson {
  const out: ResourceJson = {};
  const outlier = service.outlierDetection;
  if (outlier) {
    out['outlier_detection'] = {
      consecutive_5xx: outlier.consecutive5xx,
      interval: durationJson(parseDuration(outlier.interval)),
      base_ejection_time: durationJson(parseDuration(outlier.baseEjectionTime)),
      max_ejection_percent: outlier.maxEjectionPercent,
    };
  }
  const check = service.healthCheck;
  if (check) {
    out['health_checks'] = [
      {
        timeout: durationJson(parseDuration(check.timeout)),
        interval: durationJson(parseDuration(check.interval)),
        unhealthy_threshold: check.unhealthyThreshold,
        healthy_threshold: check.healthyThreshold,
        ...healthTarget(check, protocol(service)),
      },
    ];
  }
  return out;
}

export function buildClusters(service: Service, configSource: ConfigSource): NamedResource[] {
  return service.versions.map((version) => {
    const name = clusterName(service.name, version.name);
    const discovery: ResourceJson = usesEds(version)
      ? { type: 'EDS', eds_cluster_config: { service_name: name, eds_config: configSourceJson(configSource) } }
      : { type: 'STRICT_DNS', load_assignment: loadAssignment(name, version) };
    const lbPolicy = replicaAffinity(service);
    return {
      name,
      resource: {
        name,
        ...discovery,
        connect_timeout: CONNECT_TIMEOUT,
        ...(lbPolicy ? { lb_policy: lbPolicy } : {}),
        ...healthJson(service),
        typed_extension_protocol_options: upstreamProtocolOptions(protocol(service)),
      },
    };
  });
}
