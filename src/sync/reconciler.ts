// The only bridge between the desired state and xDS: on every committed revision it translates
// the state once per node group in use (see node-groups.ts), builds each group's snapshot
// (encoding only what changed), hands them to the cache and records which versions the revision
// became. Bursts are coalesced: the first change after a quiet period goes out at once, later
// ones within the hold-off ride together. A group a stream asks for between revisions is built
// alone, from the state the others were built from. Groups are named under that state (`groupOf`):
// when listeners' node selectors change, streams move to their new groups before the build. The
// ledger also gets each group's service footprints (service-footprints.ts). It remembers which
// snapshots come from a state with no service (the empty-state guard asks, see empty-state.ts).

import type { Logger } from 'pino';
import type { DesiredState } from '../model/types.js';
import type { TranslatedResources } from '../translate/resources.js';
import type { SnapshotCache } from '../xds/cache.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import type { StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { Snapshot, type EncodedResource, type SnapshotInput } from '../xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import { GRPC_CLIENT_GROUP, nodeGroup, parseGroup, sameSelection } from './node-groups.js';
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
  /** Streams must ask `groupOf` again (listeners' node selectors changed); called before the snapshots are set. */
  regroup?: () => void;
}

/** One group's snapshot of the state being built. */
interface GroupBuilt {
  group: string;
  snapshot: Snapshot;
  footprints: Map<FootprintKey, Footprint>;
}

/** What the latest build made, per translation key: a group added later with the same key reuses it. */
interface BuildMemo {
  state: DesiredState;
  /** Encoded resources by type, name and JSON (see Snapshot.build). */
  shared: Map<string, EncodedResource>;
  byKey: Map<string, { snapshot: Snapshot; footprints: Map<FootprintKey, Footprint> }>;
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
  /** The latest build (the state the cache's snapshots come from); undefined before the first. */
  private latest: BuildMemo | undefined;
  /** While streams regroup inside a build, groups they ask for join that build. */
  private regrouping = false;

  constructor(private readonly options: ReconcilerOptions) {
    this.holdOffMs = options.holdOffMs ?? 10;
  }

  /** Groups built on every revision; others join when a stream first asks for them. */
  private readonly groups = new Set<string>([DEFAULT_GROUP, GRPC_CLIENT_GROUP]);

  /** Builds the first snapshots from the loaded state (from then on streams may answer). */
  start(): void {
    this.options.cache.onMissingGroup((group) => this.addGroup(group));
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

  /** The group a node's streams read now: named under the desired state the snapshots come from. */
  groupOf(node: NodeInfo, transport: StreamTransport): string {
    return nodeGroup(node, transport, (this.latest?.state ?? this.options.state.current()).listeners);
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

  /**
   * A stream asked for a group nobody had: built alone from the state of the latest build (its
   * translation and snapshot reused when another group already has them), or with the build
   * that is regrouping the streams.
   */
  private addGroup(group: string): void {
    if (this.groups.has(group) || !parseGroup(this.options.variants?.baseOf(group) ?? group)) return;
    this.groups.add(group);
    const latest = this.latest;
    if (this.regrouping || latest === undefined) return;
    const started = performance.now();
    try {
      const encoded = { count: 0 };
      const built = this.buildGroup(group, latest, encoded);
      this.publish(latest.state, [built], started, encoded.count);
    } catch (error) {
      this.groups.delete(group);
      this.options.logger.error({ err: error, revision: latest.state.revision, group }, 'translation failed for a new group');
    }
  }

  /** Whether a group is still built: a stream reads it, or it is one of the fixed ones. */
  private isRead(group: string): boolean {
    return group === DEFAULT_GROUP || group === GRPC_CLIENT_GROUP || this.options.cache.hasWatchers(group);
  }

  /** Groups no stream reads any more are dropped. */
  private dropUnread(): void {
    for (const group of this.groups) {
      if (!this.isRead(group)) {
        this.groups.delete(group);
        this.options.cache.drop(group);
        this.options.ledger.dropGroup(group);
        this.options.variants?.forget(group);
      }
    }
  }

  /** Streams ask for their group again, under the latest build's state; groups they ask for join the build. */
  private regroupStreams(): void {
    this.regrouping = true;
    try {
      this.options.regroup?.();
    } finally {
      this.regrouping = false;
    }
  }

  private build(): void {
    const state = this.options.state.current();
    const started = performance.now();
    const previous = this.latest;
    const memo: BuildMemo = { state, shared: new Map(), byKey: new Map() };
    const regroup = previous !== undefined && !sameSelection(previous.state, state);
    // While streams move, no group offers a snapshot: one joining a group must not read the old
    // state's snapshot of it (which may hold a listener not meant for it); it gets the new one.
    const hidden = new Map<string, Snapshot>();
    try {
      this.latest = memo;
      if (regroup) {
        for (const group of this.groups) {
          const snapshot = this.options.cache.get(group);
          if (snapshot === undefined) continue;
          hidden.set(group, snapshot);
          this.options.cache.drop(group);
        }
        this.regroupStreams();
      }
      // Every group's snapshot is built before any is set: a revision reaches all groups or none.
      const encoded = { count: 0 };
      const previousOf = (group: string): Snapshot | undefined => hidden.get(group) ?? this.options.cache.get(group);
      const built = [...this.groups].filter((group) => this.isRead(group)).map((group) => this.buildGroup(group, memo, encoded, previousOf));
      this.footprints.endRevision();
      this.recentStates.set(state.revision, state);
      for (const revision of this.recentStates.keys()) {
        if (this.recentStates.size <= RECENT_STATES) break;
        this.recentStates.delete(revision);
      }
      this.publish(state, built, started, encoded.count);
      this.dropUnread();
    } catch (error) {
      this.latest = previous;
      // Streams go back to their groups, which offer their snapshots again.
      if (regroup) this.regroupStreams();
      for (const [group, snapshot] of hidden) this.options.cache.set(group, snapshot);
      this.options.logger.error({ err: error, revision: state.revision }, 'translation failed; keeping the last snapshot');
    }
  }

  /**
   * One group's snapshot of `memo`'s state. Groups that select the same listeners share one
   * translation and one snapshot (unless a group keeps its previous one, equal to it); a
   * variant's state is its own.
   */
  private buildGroup(
    group: string,
    memo: BuildMemo,
    encoded: { count: number },
    previousOf: (group: string) => Snapshot | undefined = (name) => this.options.cache.get(name),
  ): GroupBuilt {
    const base = this.options.variants?.baseOf(group);
    const parsed = parseGroup(base ?? group)!;
    const groupState = base === undefined ? memo.state : this.options.variants!.adjust(group, memo.state);
    const key = base === undefined ? parsed.key(memo.state) : `variant\n${group}`;
    const previous = previousOf(group);
    let made = memo.byKey.get(key);
    if (!made) {
      const resources = parsed.translate(groupState);
      const result = Snapshot.build(snapshotInput(resources), previous, memo.shared);
      encoded.count += result.encoded;
      const footprints = this.footprints.build(groupState, resources, result.snapshot, group === GRPC_CLIENT_GROUP);
      made = { snapshot: result.snapshot, footprints };
      memo.byKey.set(key, made);
    }
    // A revision that changes nothing this group receives keeps the same snapshot: no stream wakes
    // (unless the state gained its first service or lost its last: streams keeping a client's
    // configuration wake).
    const empty = Object.keys(memo.state.services).length === 0;
    const unchanged = previous !== undefined && sameVersions(previous, made.snapshot) && this.fromEmptyState.has(previous) === empty;
    const snapshot = unchanged ? previous : made.snapshot;
    if (empty) this.fromEmptyState.add(snapshot);
    return { group, snapshot, footprints: made.footprints };
  }

  /** Records the snapshots in the ledger, then hands them to the cache (streams wake). */
  private publish(state: DesiredState, built: readonly GroupBuilt[], started: number, encoded: number): void {
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
      { revision: state.revision, groups: built.length, encoded, ms: Number((performance.now() - started).toFixed(2)) },
      'snapshot built',
    );
  }
}
