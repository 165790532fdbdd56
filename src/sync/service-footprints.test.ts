import { describe, expect, it } from 'vitest';
import type { DesiredState, Service } from '../model/types.js';
import { predictService } from '../translate/fixtures.test-support.js';
import { translate, translateForGrpcClients } from '../translate/translate.js';
import { ADS } from '../translate/config-source.js';
import { Snapshot } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { snapshotInput } from './reconciler.js';
import { FootprintBuilder, type Footprint, type FootprintKey } from './service-footprints.js';

const rank: Service = predictService({ name: 'rank', match: { prefix: '/rank' } });

function state(predict: Service, extra: Partial<DesiredState> = {}): DesiredState {
  return {
    revision: 1,
    listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
    services: { predict, rank },
    ...extra,
  };
}

function footprintsOf(builder: FootprintBuilder, desired: DesiredState, grpcClients = false): Map<FootprintKey, Footprint> {
  const resources = grpcClients ? translateForGrpcClients(desired) : translate(desired, { configSource: ADS, capabilities: { hashSplit: true } });
  const { snapshot } = Snapshot.build(snapshotInput(resources));
  const footprints = builder.build(desired, resources, snapshot, grpcClients);
  builder.endRevision();
  return footprints;
}

describe('service footprints', () => {
  it("a weights change moves only that service's route footprint, though both share one route configuration", () => {
    const builder = new FootprintBuilder();
    const before = footprintsOf(builder, state(predictService()));
    const after = footprintsOf(builder, state(predictService({ weights: { blue: 50, green: 50, canary: 0 } })));
    expect(after.get('service/predict')?.[ROUTE_TYPE]).not.toBe(before.get('service/predict')?.[ROUTE_TYPE]);
    for (const typeUrl of [LISTENER_TYPE, CLUSTER_TYPE, ENDPOINT_TYPE] as const) {
      expect(after.get('service/predict')?.[typeUrl]).toBe(before.get('service/predict')?.[typeUrl]);
    }
    expect(after.get('service/rank')).toEqual(before.get('service/rank'));
  });

  it("an endpoint change moves only that service's endpoint footprint", () => {
    const builder = new FootprintBuilder();
    const before = footprintsOf(builder, state(predictService()));
    const moved = predictService();
    const after = footprintsOf(builder, state({ ...moved, versions: moved.versions.map((v, i) => (i === 0 ? { ...v, endpoints: [{ address: '10.9.9.9', port: 5001 }] } : v)) }));
    expect(after.get('service/predict')?.[ENDPOINT_TYPE]).not.toBe(before.get('service/predict')?.[ENDPOINT_TYPE]);
    expect(after.get('service/predict')?.[ROUTE_TYPE]).toBe(before.get('service/predict')?.[ROUTE_TYPE]);
    expect(after.get('service/rank')).toEqual(before.get('service/rank'));
  });

  it('a listener of its own has a footprint of its own; adding it moves no service', () => {
    const builder = new FootprintBuilder();
    const before = footprintsOf(builder, state(predictService()));
    const after = footprintsOf(
      builder,
      state(predictService(), {
        listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 }, clash: { name: 'clash', address: '0.0.0.0', port: 9000 } },
      }),
    );
    expect(after.get('listener/clash')?.[LISTENER_TYPE]).toBeDefined();
    expect(before.has('listener/clash')).toBe(false);
    expect(after.get('service/predict')).toEqual(before.get('service/predict'));
    expect(after.get('service/rank')).toEqual(before.get('service/rank'));
  });

  it('proxyless gRPC clients: a service owns its API listener and route configuration whole', () => {
    const builder = new FootprintBuilder();
    const footprints = footprintsOf(builder, state(predictService()), true);
    const predict = footprints.get('service/predict')!;
    expect(Object.keys(predict).sort()).toEqual([CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE].sort());
    expect(predict[LISTENER_TYPE]).not.toBe(footprints.get('service/rank')![LISTENER_TYPE]);
    expect([...footprints.keys()].some((key) => key.startsWith('listener/'))).toBe(false);
  });
});
