// An in-process xDS server for protocol tests: the real gRPC server, cache and fleet status, fed
// snapshots translated from small desired states, without the store or the admin API.

import pino from 'pino';
import { FleetStatus } from '../../src/fleet/status.js';
import type { DesiredState, Service } from '../../src/model/types.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { translate } from '../../src/translate/translate.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { DEFAULT_GROUP, XdsServer } from '../../src/xds/server/ads-server.js';
import { Snapshot, type SnapshotInput } from '../../src/xds/snapshot.js';

export function service(name: string, weights: Record<string, number>, versions = ['blue', 'green']): Service {
  return {
    name,
    listener: 'default',
    match: { prefix: `/${name}` },
    hosts: ['*'],
    versions: versions.map((v, i) => ({ name: v, endpoints: [{ address: '127.0.0.1', port: 5001 + i }] })),
    weights,
    stable: versions[0]!,
    pinHeader: 'x-sluice-version',
    timeout: '30s',
  };
}

export function state(revision: number, ...services: Service[]): DesiredState {
  return {
    revision,
    listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
    services: Object.fromEntries(services.map((s) => [s.name, s])),
  };
}

export class XdsHarness {
  readonly cache = new SnapshotCache();
  readonly fleet = new FleetStatus();
  readonly server = new XdsServer({ cache: this.cache, callbacks: this.fleet, logger: pino({ level: 'silent' }) });
  address = '';
  private previous: Snapshot | undefined;

  async start(): Promise<this> {
    this.address = `127.0.0.1:${await this.server.listen('127.0.0.1', 0)}`;
    return this;
  }

  /** Translates and publishes a desired state; returns the snapshot and how many resources were encoded. */
  publish(desired: DesiredState): { snapshot: Snapshot; encoded: number } {
    return this.publishInput(snapshotInput(translate(desired)));
  }

  publishInput(input: SnapshotInput): { snapshot: Snapshot; encoded: number } {
    const built = Snapshot.build(input, this.previous);
    this.previous = built.snapshot;
    this.cache.set(DEFAULT_GROUP, built.snapshot);
    return built;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }
}
