// An in-process xDS server for protocol tests: the real gRPC server, cache and fleet status, fed
// snapshots translated from small desired states, without the store or the admin API. Tests wait
// on the fleet status (what sluice has heard ACKed), never on time.

import pino from 'pino';
import { FleetStatus } from '../../src/fleet/status.js';
import type { DesiredState, Service } from '../../src/model/types.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { translate } from '../../src/translate/translate.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { DEFAULT_GROUP, XdsServer } from '../../src/xds/server/ads-server.js';
import { Snapshot, type SnapshotInput } from '../../src/xds/snapshot.js';
import type { ResourceTypeUrl } from '../../src/xds/type-urls.js';

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

  /** Resolves once `check()` holds, re-checked on every fleet change; fails loudly after `timeoutMs`. */
  async waitForFleet(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${what} not seen within ${timeoutMs} ms; fleet: ${JSON.stringify(this.fleet.list())}`));
      }, timeoutMs);
      const stop = this.fleet.onChange(() => {
        if (!check()) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }

  /** Resolves once sluice has heard node `nodeId` ACK these versions. */
  async waitAcked(nodeId: string, versions: Partial<Record<ResourceTypeUrl, string>>, timeoutMs?: number): Promise<void> {
    const check = (): boolean => {
      const proxy = this.fleet.list().find((p) => p.node.id === nodeId);
      return Object.entries(versions).every(([typeUrl, version]) => proxy?.types[typeUrl as ResourceTypeUrl]?.ackedVersion === version);
    };
    await this.waitForFleet(check, `node ${nodeId} ACKing ${JSON.stringify(versions)}`, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.server.close();
  }
}
