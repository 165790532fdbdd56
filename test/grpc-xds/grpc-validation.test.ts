// The gRPC-client flavour of every golden case, encoded as sluice sends it, must pass the resource
// validation of gRPC's own xDS client (the decoders @grpc/grpc-js-xds runs before it ACKs), which
// covers what the end-to-end test does not reach (LOGICAL_DNS, several services, duplicates); and
// the reason that flavour has no unknown-pin route: the same decoder rejects a direct_response.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpcXds from '@grpc/grpc-js-xds';
import { ClusterResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import { ListenerResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js';
import { RouteConfigurationResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js';
import type { XdsDecodeContext, XdsResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/xds-resource-type.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { DesiredState } from '../../src/model/types.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { translate, translateForGrpcClients } from '../../src/translate/translate.js';
import { encodeResource } from '../../src/xds/codec.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../../src/xds/type-urls.js';

const inputs = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'in');
const DECODERS: Record<ResourceTypeUrl, XdsResourceType> = {
  [LISTENER_TYPE]: ListenerResourceType.get(),
  [ROUTE_TYPE]: RouteConfigurationResourceType.get(),
  [CLUSTER_TYPE]: ClusterResourceType.get(),
  [ENDPOINT_TYPE]: EndpointResourceType.get(),
};
// Registers, among others, the HTTP filters the listener validation looks up (the router).
grpcXds.register();
/** Only TLS settings consult the context; sluice sends none. */
const context = {} as XdsDecodeContext;

describe('gRPC-client resources pass grpc-js-xds validation', () => {
  for (const file of readdirSync(inputs).filter((name) => name.endsWith('.yaml')).sort()) {
    it(file, () => {
      const state = parse(readFileSync(join(inputs, file), 'utf8')) as DesiredState;
      const input = snapshotInput(translateForGrpcClients(state));
      for (const [typeUrl, decoder] of Object.entries(DECODERS) as [ResourceTypeUrl, XdsResourceType][]) {
        for (const { name, resource } of input[typeUrl]) {
          const result = decoder.decode(context, { type_url: typeUrl, value: Buffer.from(encodeResource(typeUrl, resource)) });
          expect(result.error, `${file} ${name}`).toBeUndefined();
          expect(result.name).toBe(name);
        }
      }
    });
  }
});

describe('why the gRPC flavour has no unknown-pin route', () => {
  it("grpc-js-xds rejects a whole route configuration that holds Envoy's direct_response 400", () => {
    const state = parse(readFileSync(join(inputs, 'blue-only.yaml'), 'utf8')) as DesiredState;
    // Envoy's route configuration for the same service: pins, the unknown-pin 400, the split.
    const { name, resource } = snapshotInput(translate(state))[ROUTE_TYPE][0]!;
    const result = RouteConfigurationResourceType.get().decode(context, {
      type_url: ROUTE_TYPE,
      value: Buffer.from(encodeResource(ROUTE_TYPE, resource)),
    });
    expect(result.name).toBe(name);
    expect(String(result.error)).toContain('unsupported action: direct_response');
  });
});
