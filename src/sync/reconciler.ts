// The only bridge between the desired state and xDS: on every committed revision it translates
// the state once per node group in use (see node-groups.ts), builds each group's snapshot
// (encoding only what changed), hands them to the cache and records which versions the revision
// became. Bursts are coalesced: the first change after a quiet period goes out at once, later
// ones within the hold-off ride together. The ledger also gets each group's service footprints
// (service-footprints.ts). It remembers which snapshots come from a state with no service (the
// empty-state guard asks, see empty-state.ts).

import type { Logger } from 'pino';
import type { DesiredState } from '../model/types.js';
import type { TranslatedResources } from '../translate/resources.js';
import type { SnapshotCache } from '../xds/cache.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import { Snapshot, type EncodedResource, type SnapshotInput } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { GRPC_CLIENT_GROUP, parseGroup } from './node-groups.js';
import type { RevisionLedger } from './revision-ledger.js';
import { FootprintBuilder, type Footprint, type FootprintKey } from './service-footprints.js';

export interface StateSource {
  current(): DesiredState;
  subscribe(listener: (state: DesiredState) => void): () => void;
}

/**
 * Groups derived from another with an adjusted desired state (a node whose rejected change is held
 * back reads one of its own, see rejection-holds.ts).
 */
export interface GroupVariants {
  /** The group a variant derives from; undefined when `group` is no variant. */
  baseOf(group: string): string | undefined;
  /** The desired state a variant is built from. */
  adjust(group: string, state: DesiredState): DesiredState;
  /** The reconciler no longer builds the variant (no stream reads it). */
  forget(group: string): void;
}

/** Desired states of the latest builds kept for `stateAt`. */
const RECENT_STATES = 64;

export interface ReconcilerOptions {
  state: StateSource;
  cache: SnapshotCache;
  ledger: RevisionLedger;
  logger: Logger;
  /** Changes closer together than this are coalesced into one snapshot. */
  holdOffMs?: number;
  /** Called after every build, once the ledger has the revision (even if no resource changed). */
  onBuilt?: (revision: number) => void;
  variants?: GroupVariants;
}

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
  private timer: NodeJS.Timeout | undefined;
  private lastBuildAt = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly holdOffMs: number;
  /** Snapshots built from a desired state with no service. */
  private readonly fromEmptyState = new WeakSet<Snapshot>();
  private readonly footprints = new FootprintBuilder();
  /** The desired states of the latest builds, by revision. */
  private readonly recentStates = new Map<number, DesiredState>();

  constructor(private readonly options: ReconcilerOptions) {
    this.holdOffMs = options.holdOffMs ?? 10;
  }

  /** Groups built on every revision; others join when a stream first asks for them. */
  private readonly groups = new Set<string>([DEFAULT_GROUP, GRPC_CLIENT_GROUP]);
  private started = false;

  /** Builds the first snapshots from the loaded state (from then on streams may answer). */
  start(): void {
    this.options.cache.onMissingGroup((group) => this.addGroup(group));
    this.started = true;
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
    return this.options.cache.get(group);
  }

  /** The desired state of a recent build (the last 64), e.g. what a proxy last accepted. */
  stateAt(revision: number): DesiredState | undefined {
    return this.recentStates.get(revision);
  }

  /**
   * The groups built for streams (not a proxy's variant holding a change back); the gRPC
   * clients' only while one watches it.
   */
  groupsInUse(): string[] {
    return [...this.groups].filter(
      (group) => this.options.variants?.baseOf(group) === undefined && (group !== GRPC_CLIENT_GROUP || this.options.cache.hasWatchers(group)),
    );
  }

  /** Whether `snapshot` was built from a desired state with no service. */
  builtFromEmptyState(snapshot: Snapshot): boolean {
    return this.fromEmptyState.has(snapshot);
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

  /** A stream asked for a group nobody had: build it now from the current state. */
  private addGroup(group: string): void {
    if (this.groups.has(group) || !parseGroup(this.options.variants?.baseOf(group) ?? group)) return;
    this.groups.add(group);
    if (this.started) this.build();
  }

  private build(): void {
    const state = this.options.state.current();
    const started = performance.now();
    try {
      // Groups no stream reads any more are dropped; the fixed ones stay.
      for (const group of this.groups) {
        if (group !== DEFAULT_GROUP && group !== GRPC_CLIENT_GROUP && !this.options.cache.hasWatchers(group)) {
          this.groups.delete(group);
          this.options.cache.drop(group);
          this.options.ledger.dropGroup(group);
          this.options.variants?.forget(group);
        }
      }
      // Every group's snapshot is built before any is set: a revision reaches all groups or none.
      let encoded = 0;
      const empty = Object.keys(state.services).length === 0;
      // Groups share most resources (clusters, endpoints): each distinct one is encoded once per
      // build, and groups that select the same listeners share one translation.
      const shared = new Map<string, EncodedResource>();
      const translations = new Map<string, TranslatedResources>();
      const footprintsByKey = new Map<string, Map<FootprintKey, Footprint>>();
      const built = [...this.groups].map((group) => {
        const base = this.options.variants?.baseOf(group);
        const parsed = parseGroup(base ?? group)!;
        const groupState = base === undefined ? state : this.options.variants!.adjust(group, state);
        // A variant's state is its own: it shares no translation.
        const key = base === undefined ? parsed.key(state) : `variant\n${group}`;
        let resources = translations.get(key);
        if (!resources) {
          resources = parsed.translate(groupState);
          translations.set(key, resources);
        }
        const previous = this.options.cache.get(group);
        const result = Snapshot.build(snapshotInput(resources), previous, shared);
        encoded += result.encoded;
        // A revision that changes nothing this group receives keeps the same snapshot: no stream wakes
        // (unless the state gained its first service or lost its last: streams keeping a client's
        // configuration wake).
        const unchanged = previous !== undefined && sameVersions(previous, result.snapshot) && this.fromEmptyState.has(previous) === empty;
        const snapshot = unchanged ? previous : result.snapshot;
        if (empty) this.fromEmptyState.add(snapshot);
        let footprints = footprintsByKey.get(key);
        if (!footprints) {
          footprints = this.footprints.build(groupState, resources, snapshot, group === GRPC_CLIENT_GROUP);
          footprintsByKey.set(key, footprints);
        }
        return { group, snapshot, footprints };
      });
      this.footprints.endRevision();
      this.recentStates.set(state.revision, state);
      for (const revision of this.recentStates.keys()) {
        if (this.recentStates.size <= RECENT_STATES) break;
        this.recentStates.delete(revision);
      }
      this.lastBuildAt = Date.now();
      this.options.ledger.record(
        state.revision,
        built.map(({ group, snapshot, footprints }) => ({ group, versions: snapshot.versions(), footprints })),
      );
      for (const { group, snapshot } of built) {
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
