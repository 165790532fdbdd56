// A service's upstream protocol in its resources, as a table: the HTTP version Envoy speaks to
// the replicas, what its active health check asks, and, for gRPC alone, the caller's grpc-timeout
// honoured up to the service's timeout. Retries stay on "the model never saw it" for every protocol.

import { describe, expect, it } from 'vitest';
import type { HealthCheck, Service, UpstreamProtocol } from '../model/types.js';
import { predictService, stateOf } from './fixtures.test-support.js';
import type { ResourceJson } from './resources.js';
import { translate } from './translate.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const check = { interval: '5s', timeout: '2s', unhealthyThreshold: 2, healthyThreshold: 1 };

// Read as JSON: the resources are plain data.
function clusterOf(service: Service): any {
  return translate(stateOf(service)).clusters.find((c) => c.name === 'predict_blue')!.resource;
}

function routesOf(service: Service): any[] {
  return (translate(stateOf(service)).routes[0]!.resource as any)['virtual_hosts'][0].routes;
}

describe('the upstream HTTP version per protocol', () => {
  it.each<[UpstreamProtocol | undefined, ResourceJson]>([
    [undefined, { http_protocol_options: {} }],
    ['http1', { http_protocol_options: {} }],
    ['http2', { http2_protocol_options: {} }],
    ['grpc', { http2_protocol_options: {} }],
  ])('%s → %j', (protocol, explicit) => {
    const cluster = clusterOf(predictService(protocol ? { protocol } : {}));
    expect(cluster['typed_extension_protocol_options'][HTTP_OPTIONS]['explicit_http_config']).toEqual(explicit);
  });
});

describe('the active health check per protocol', () => {
  it.each<[UpstreamProtocol, HealthCheck, ResourceJson]>([
    ['http1', { path: '/healthz', ...check }, { http_health_check: { path: '/healthz' } }],
    ['http2', { path: '/ready', ...check }, { http_health_check: { path: '/ready', codec_client_type: 'HTTP2' } }],
    ['grpc', { ...check }, { grpc_health_check: {} }],
    ['grpc', { grpcService: 'inference.GRPCInferenceService', ...check }, { grpc_health_check: { service_name: 'inference.GRPCInferenceService' } }],
  ])('%s with %j', (protocol, healthCheck, expected) => {
    const [health] = clusterOf(predictService({ protocol, healthCheck }))['health_checks'];
    expect(health).toEqual({
      timeout: '2s',
      interval: '5s',
      unhealthy_threshold: 2,
      healthy_threshold: 1,
      ...expected,
    });
  });
});

describe('deadlines and retries per protocol', () => {
  it.each<[string, string]>([
    ['30s', '30s'],
    ['0s', '0s'],
  ])('grpc with timeout %s: every route reaching a version takes grpc-timeout up to %s', (timeout, max) => {
    const routes = routesOf(predictService({ protocol: 'grpc', timeout }));
    const forwarding = routes.filter((r) => r.route);
    expect(forwarding.length).toBe(4); // three pins and the split
    for (const route of forwarding) {
      expect(route.route.max_stream_duration).toEqual({ grpc_timeout_header_max: max });
      expect(route.route.timeout).toBe(max);
    }
  });

  it.each<UpstreamProtocol | undefined>([undefined, 'http1', 'http2'])('%s routes carry no gRPC deadline', (protocol) => {
    const routes = routesOf(predictService(protocol ? { protocol } : {}));
    for (const route of routes.filter((r) => r.route)) expect(route.route.max_stream_duration).toBeUndefined();
  });

  it('grpc retries only calls the model never saw: never on cancelled or unavailable', () => {
    for (const route of routesOf(predictService({ protocol: 'grpc' })).filter((r) => r.route)) {
      expect(route.route.retry_policy.retry_on).toBe('connect-failure,refused-stream,reset-before-request');
    }
  });
});
