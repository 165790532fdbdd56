// How a version's endpoints are discovered, as a table by endpoint kind: EDS (endpoints in a
// ClusterLoadAssignment of the same name, changeable without touching the cluster) only when every
// endpoint is an IP address, since EDS takes IPs only; otherwise STRICT_DNS with the endpoints
// inline and no assignment. For gRPC clients: EDS, LOGICAL_DNS for exactly one host name, or the
// service is not offered. Expected values are reasoned from those rules, not copied from output.

import { describe, expect, it } from 'vitest';
import type { Endpoint, Service } from '../model/types.js';
import { XDS_CLUSTER_NAME } from './config-source.js';
import type { ResourceJson } from './resources.js';
import { predictService, stateOf } from './fixtures.test-support.js';
import { translate, translateForGrpcClients } from './translate.js';

function service(endpoints: Endpoint[]): Service {
  return predictService({ versions: [{ name: 'v1', endpoints }], weights: { v1: 100 }, stable: 'v1' });
}


const socket = ({ address, port }: Endpoint) => ({ endpoint: { address: { socket_address: { address, port_value: port } } } });

interface Case {
  name: string;
  endpoints: Endpoint[];
  envoy: 'EDS' | 'STRICT_DNS';
  grpc: 'EDS' | 'LOGICAL_DNS' | 'not offered';
}

const cases: Case[] = [
  { name: 'one IPv4 address', endpoints: [{ address: '10.0.0.1', port: 5001 }], envoy: 'EDS', grpc: 'EDS' },
  {
    name: 'several IPv4 and IPv6 addresses',
    endpoints: [{ address: '10.0.0.1', port: 5001 }, { address: '::1', port: 5001 }, { address: '2001:db8::5', port: 5002 }],
    envoy: 'EDS',
    grpc: 'EDS',
  },
  { name: 'one host name', endpoints: [{ address: 'model-v1.svc.cluster.local', port: 8000 }], envoy: 'STRICT_DNS', grpc: 'LOGICAL_DNS' },
  { name: 'localhost is a host name, not an IP', endpoints: [{ address: 'localhost', port: 8000 }], envoy: 'STRICT_DNS', grpc: 'LOGICAL_DNS' },
  {
    name: 'a name that looks like an IP is a host name',
    endpoints: [{ address: '10.0.0.1.nip.io', port: 8000 }],
    envoy: 'STRICT_DNS',
    grpc: 'LOGICAL_DNS',
  },
  {
    name: 'IPs and one host name: the host name decides (EDS takes IPs only)',
    endpoints: [{ address: '10.0.0.1', port: 5001 }, { address: 'model.local', port: 5001 }],
    envoy: 'STRICT_DNS',
    grpc: 'not offered',
  },
  {
    name: 'two host names',
    endpoints: [{ address: 'a.model.local', port: 5001 }, { address: 'b.model.local', port: 5001 }],
    envoy: 'STRICT_DNS',
    grpc: 'not offered',
  },
];

describe('cluster discovery by endpoint kind, for Envoy', () => {
  it.each(cases)('$name → $envoy', ({ endpoints, envoy }) => {
    const { clusters, endpoints: assignments } = translate(stateOf(service(endpoints)));
    expect(clusters.map((c) => c.name)).toEqual(['predict_v1']);
    const cluster = clusters[0]!.resource;
    expect(cluster['type']).toBe(envoy);
    const lbEndpoints = endpoints.map(socket);
    if (envoy === 'EDS') {
      expect(cluster['eds_cluster_config']).toEqual({ service_name: 'predict_v1', eds_config: { ads: {}, resource_api_version: 'V3' } });
      expect(cluster['load_assignment']).toBeUndefined();
      expect(assignments).toEqual([
        { name: 'predict_v1', resource: { cluster_name: 'predict_v1', endpoints: [{ lb_endpoints: lbEndpoints }] } },
      ]);
    } else {
      expect(cluster['eds_cluster_config']).toBeUndefined();
      expect(cluster['load_assignment']).toEqual({ cluster_name: 'predict_v1', endpoints: [{ lb_endpoints: lbEndpoints }] });
      // No assignment for a cluster that does not ask for one.
      expect(assignments).toEqual([]);
    }
  });

  it('an Envoy on the per-type services fetches EDS from the static xDS cluster', () => {
    const state = stateOf(service([{ address: '10.0.0.1', port: 5001 }]));
    const configSource = { kind: 'per-type', apiType: 'DELTA_GRPC', clusterName: XDS_CLUSTER_NAME } as const;
    const cluster = translate(state, { configSource }).clusters[0]!.resource;
    expect(cluster['eds_cluster_config']).toEqual({
      service_name: 'predict_v1',
      eds_config: {
        api_config_source: { api_type: 'DELTA_GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] },
        resource_api_version: 'V3',
      },
    });
  });

  it('every version of one service decides on its own', () => {
    const svc: Service = {
      ...service([]),
      versions: [
        { name: 'v1', endpoints: [{ address: 'model-v1.local', port: 8000 }] },
        { name: 'v2', endpoints: [{ address: '10.1.0.7', port: 8000 }] },
      ],
      weights: { v1: 50, v2: 50 },
    };
    const resources = translate(stateOf(svc));
    expect(resources.clusters.map(({ name, resource }) => [name, resource['type']])).toEqual([
      ['predict_v1', 'STRICT_DNS'],
      ['predict_v2', 'EDS'],
    ]);
    expect(resources.endpoints.map((e) => e.name)).toEqual(['predict_v2']);
  });
});

describe('cluster discovery by endpoint kind, for gRPC clients', () => {
  it.each(cases)('$name → $grpc', ({ endpoints, grpc }) => {
    const resources = translateForGrpcClients(stateOf(service(endpoints)));
    if (grpc === 'not offered') {
      // gRPC has no STRICT_DNS: the service's channel finds no listener, and nothing dangles.
      expect(resources).toEqual({ listeners: [], routes: [], clusters: [], endpoints: [] });
      return;
    }
    expect(resources.listeners.map((l) => l.name)).toEqual(['predict']);
    expect(resources.clusters.map((c) => c.name)).toEqual(['predict_v1']);
    const cluster = resources.clusters[0]!.resource;
    // Nothing gRPC ignores or rejects: no connect timeout, no upstream protocol options.
    expect(cluster['connect_timeout']).toBeUndefined();
    expect(cluster['typed_extension_protocol_options']).toBeUndefined();
    expect(cluster['type']).toBe(grpc);
    if (grpc === 'EDS') {
      // gRPC drops a locality without a weight and rejects one without `locality`.
      expect(resources.endpoints).toEqual([
        {
          name: 'predict_v1',
          resource: { cluster_name: 'predict_v1', endpoints: [{ locality: {}, load_balancing_weight: 1, lb_endpoints: endpoints.map(socket) }] },
        },
      ]);
    } else {
      expect(cluster['load_assignment']).toEqual({ cluster_name: 'predict_v1', endpoints: [{ lb_endpoints: endpoints.map(socket) }] });
      expect(resources.endpoints).toEqual([]);
    }
  });

  it('an address listed twice is listed once (gRPC rejects the whole assignment otherwise)', () => {
    const endpoints = [{ address: '10.0.0.1', port: 5001 }, { address: '10.0.0.1', port: 5001 }, { address: '10.0.0.1', port: 5002 }];
    const assignment = translateForGrpcClients(stateOf(service(endpoints))).endpoints[0]!.resource;
    // 10.0.0.1:5001 twice → once; 10.0.0.1:5002 is another address.
    expect((assignment['endpoints'] as ResourceJson[])[0]!['lb_endpoints']).toEqual([
      socket({ address: '10.0.0.1', port: 5001 }),
      socket({ address: '10.0.0.1', port: 5002 }),
    ]);
  });
});
