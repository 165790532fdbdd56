// The only bridge between the desired state and xDS: on every committed revision it translates
// the state once per node group (Envoy; proxyless gRPC clients), builds each group's snapshot
// (encoding only what changed), hands them to the cache and records which versions the revision
// became. Bursts are coalesced: the first change after a quiet period goes out at once, later
// ones within the hold-off ride together. Which group a node reads is decided here (`nodeGroup`).

import type { Logger } from 'pino';
import type { DesiredState } from '../model/types.js';
import type { TranslatedResources } from '../translate/resources.js';
import { ADS, XDS_CLUSTER_NAME, type ConfigSource } from '../translate/config-source.js';
import { translate, translateForGrpcClients } from '../translate/translate.js';
import type { SnapshotCache } from '../xds/cache.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import type { StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { Snapshot, type EncodedResource, type SnapshotInput } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import type { RevisionLedger } from './revision-ledger.js';

export interface StateSource {
  current(): DesiredState;
  subscribe(listener: (state: DesiredState) => void): () => void;
}

export interface ReconcilerOptions {
  state: StateSource;
  cache: SnapshotCache;
  ledger: RevisionLedger;
  logger: Logger;
  /** Changes closer together than this are coalesced into one snapshot. */
  holdOffMs?: number;
  /** Called after every build, once the ledger has the revision (even if no resource changed). */
  onBuilt?: (revision: number) => void;
}

/** Proxyless gRPC clients: API listeners named after services, never seen by Envoy. */
export const GRPC_CLIENT_GROUP = 'grpc-clients';

/** Envoys using the per-type discovery services, which fetch routes and endpoints on their own streams. */
export const PER_TYPE_SOTW_GROUP = 'envoy-per-type';
export const PER_TYPE_DELTA_GROUP = 'envoy-per-type-delta';
/** Suffix of the groups for Envoys older than 1.36 (no `use_hash_policy`: cohort-cookie fallback). */
export const PRE_HASH_SPLIT_SUFFIX = '-pre-1.36';

/** Whether an Envoy version (e.g. "1.40.0") has `weighted_clusters.use_hash_policy`; unknown counts as yes. */
export function supportsHashSplit(envoyVersion: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(envoyVersion);
  if (!match) return true;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 1 || (major === 1 && minor >= 36);
}

/**
 * gRPC's xDS clients name themselves "gRPC Node Pure JS", "gRPC Go", …; Envoy says "envoy". An
 * Envoy on the per-type services must be told to fetch routes and endpoints the same way, and an
 * Envoy older than 1.36 gets the cohort-cookie stand-in for key-based version affinity.
 */
export function nodeGroup(node: NodeInfo, transport: StreamTransport): string {
  if (/^grpc\b/i.test(node.userAgentName)) return GRPC_CLIENT_GROUP;
  const base = transport.aggregated ? DEFAULT_GROUP : transport.kind === 'delta' ? PER_TYPE_DELTA_GROUP : PER_TYPE_SOTW_GROUP;
  return supportsHashSplit(node.envoyVersion) ? base : `${base}${PRE_HASH_SPLIT_SUFFIX}`;
}

const CONFIG_SOURCES: Record<string, ConfigSource> = {
  [DEFAULT_GROUP]: ADS,
  [PER_TYPE_SOTW_GROUP]: { kind: 'per-type', apiType: 'GRPC', clusterName: XDS_CLUSTER_NAME },
  [PER_TYPE_DELTA_GROUP]: { kind: 'per-type', apiType: 'DELTA_GRPC', clusterName: XDS_CLUSTER_NAME },
};

const GROUPS: { group: string; translate: (state: DesiredState) => TranslatedResources }[] = [
  ...Object.entries(CONFIG_SOURCES).flatMap(([group, configSource]) => [
    { group, translate: (state: DesiredState) => translate(state, { configSource }) },
    {
      group: `${group}${PRE_HASH_SPLIT_SUFFIX}`,
      translate: (state: DesiredState) => translate(state, { configSource, capabilities: { hashSplit: false } }),
    },
  ]),
  { group: GRPC_CLIENT_GROUP, translate: translateForGrpcClients },
];

export function snapshotInput(resources: TranslatedResources): SnapshotInput {
  return {
    [LISTENER_TYPE]: resources.listeners,
    [ROUTE_TYPE]: resources.routes,
    [CLUSTER_TYPE]: resources.clusters,
    [ENDPOINT_TYPE]: resources.endpoints,
  };
}

function sameVersions(a: Snapshot, b: Snapshot): boolean {
  const left = a.versions();
  const right = b.versions();
  return (Object.keys(left) as (keyof typeof left)[]).every((typeUrl) => left[typeUrl] === right[typeUrl]);
}

export class Reconciler {
  private readonly snapshots = new Map<string, Snapshot>();
  private timer: NodeJS.Timeout | undefined;
  private lastBuildAt = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly holdOffMs: number;

  constructor(private readonly options: ReconcilerOptions) {
    this.holdOffMs = options.holdOffMs ?? 10;
  }

  /** Builds the first snapshot from the loaded state (from then on streams may answer). */
  start(): void {
    this.build();
    this.unsubscribe = this.options.state.subscribe(() => this.schedule());
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The group's current snapshot (Envoy's by default). */
  current(group: string = DEFAULT_GROUP): Snapshot | undefined {
    return this.snapshots.get(group);
  }

  private schedule(): void {
    if (this.timer) return;
    const sinceLast = Date.now() - this.lastBuildAt;
    const delay = sinceLast >= this.holdOffMs ? 0 : this.holdOffMs - sinceLast;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.build();
    }, delay);
  }

  private build(): void {
    const state = this.options.state.current();
    const started = performance.now();
    try {
      // Every group's snapshot is built before any is set: a revision reaches all groups or none.
      let encoded = 0;
      // Groups share most resources (clusters, endpoints): each distinct one is encoded once per build.
      const shared = new Map<string, EncodedResource>();
      const built = GROUPS.map(({ group, translate: translateFor }) => {
        const previous = this.snapshots.get(group);
        const result = Snapshot.build(snapshotInput(translateFor(state)), previous, shared);
        encoded += result.encoded;
        // A revision that changes nothing this group receives keeps the same snapshot: no stream wakes.
        const unchanged = previous !== undefined && sameVersions(previous, result.snapshot);
        return { group, snapshot: unchanged ? previous : result.snapshot };
      });
      this.lastBuildAt = Date.now();
      this.options.ledger.record(state.revision, ...built.map(({ snapshot }) => snapshot.versions()));
      for (const { group, snapshot } of built) {
        this.snapshots.set(group, snapshot);
        this.options.cache.set(group, snapshot);
      }
      this.options.onBuilt?.(state.revision);
      this.options.logger.info(
        { revision: state.revision, encoded, ms: Number((performance.now() - started).toFixed(2)) },
        'snapshot built',
      );
    } catch (error) {
      this.options.logger.error({ err: error, revision: state.revision }, 'translation failed; keeping the last snapshot');
    }
  }
}
