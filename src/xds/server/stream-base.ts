// What SotW and delta streams share: the node, the watch on its group's snapshot, backpressure,
// make-before-break both ways (routes wait for unanswered clusters and, per-type, for the endpoints
// of clusters just added; dropped clusters wait for the node's routes to settle) and which clusters
// changed so their endpoints are re-sent, and the empty-state guard: a client that declared holding
// configuration is sent nothing while the snapshot comes from a state with no service (the guard,
// passed in, tells; the stream never reads the desired state). A node its credentials may not claim
// (the check is passed in) is denied before anything is opened. Protocol bookkeeping lives in the
// subclasses; no encoding.

import type { Logger } from 'pino';
import type { SnapshotCache } from '../cache.js';
import type { EncodedResource, Snapshot } from '../snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, isResourceTypeUrl, type ResourceTypeUrl } from '../type-urls.js';
import type { StreamCallbacks, StreamKind, StreamTransport } from './callbacks.js';
import { nodeInfo, type NodeInfo, type RawNode } from './messages.js';
import type { NodePeers, PeerStream } from './node-peers.js';

export const CONTROL_PLANE_ID = 'sluice';

/** How much of a type URL sluice does not serve reaches the log (the longest real one is under 100). */
const LOGGED_TYPE_URL_CHARS = 120;

/** How much of a client's NACK message reaches the log (the fleet keeps it whole for /v1/proxies). */
const LOGGED_NACK_CHARS = 2000;

/** A client's text cut to `max` characters for a log line, saying how long it was when cut. */
export function forLog(text: string, max = LOGGED_NACK_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/**
 * Keeps a client's configuration from being replaced by an empty one (XDS-NOTES §0.5): a stream
 * whose client declared holding configuration on its first request sends nothing that would
 * change it while `isEmpty` says the snapshot comes from a desired state with no service.
 */
export interface EmptyStateGuard {
  /** The snapshot was built from a desired state with no service. */
  isEmpty(snapshot: Snapshot): boolean;
  /** What the stream withholds from its node now (an empty list: nothing any more, or it closed). */
  withholding(streamId: number, node: NodeInfo, types: ResourceTypeUrl[]): void;
}

export interface StreamDeps<Response> {
  streamId: number;
  cache: SnapshotCache;
  groupOf(node: NodeInfo, transport: StreamTransport): string;
  callbacks: StreamCallbacks;
  logger: Logger;
  /** The other streams of the same node, for make-before-break across per-type streams. */
  peers: NodePeers;
  /** Set for the per-type discovery services: the one type this stream may carry. */
  fixedType?: ResourceTypeUrl;
  /** Without it, every snapshot is sent as it is (even an empty one over a client's configuration). */
  emptyState?: EmptyStateGuard;
  /** Writes one response; false means the transport is full and `drained()` will follow. */
  write(response: Response): boolean;
  /** Ends the stream with an error the client can read. */
  fail(message: string): void;
  /** Whether a stream may subscribe to this many names of one type; if not, it has been ended. */
  subscriptionWithinLimit(names: number): boolean;
  /** Why the stream's credentials may not claim this node (the stream is then denied), or undefined. */
  refusalOf?(node: NodeInfo): string | undefined;
  /** Ends the stream as not permitted, with a reason the client can read. */
  deny(reason: string): void;
}

export abstract class StreamBase<Response> implements PeerStream {
  protected node: NodeInfo | undefined;
  protected snapshot: Snapshot | undefined;
  protected closed = false;
  /** The snapshot group this stream reads (set with the node; `regroup` may move it). */
  private group: string | undefined;
  private transport: StreamTransport | undefined;
  /** The last flush kept clusters or endpoints the snapshot dropped (it waits for routes to settle). */
  private retaining = false;
  private unwatch: (() => void) | undefined;
  private leavePeers: (() => void) | undefined;
  private blocked = false;
  private nonceCounter = 0;
  /** Nonce of a cluster response not yet ACKed or NACKed; listeners and routes wait for it. */
  private clustersInFlight: string | undefined;
  private sentClusterVersions = new Map<string, string>();
  /**
   * Per-type cluster streams only: EDS clusters the cluster responses added or changed whose
   * endpoints the node has not answered yet, by name → the number of the response that carried
   * them. Envoy ACKs such a response at once and asks for the endpoints afterwards (over ADS it
   * withholds the ACK until they arrive), so listeners and routes naming them wait for that too.
   */
  private readonly warming = new Map<string, number>();
  /** The client declared holding configuration on a first request (a reconnect, not a fresh start). */
  private declaredConfig = false;
  /** A snapshot from a state with services reached this stream: the guard no longer applies. */
  private servedState = false;
  /** Whether this flush keeps the client's configuration rather than send an empty one. */
  private guarding = false;
  /** Types withheld from the client so far (reported to the guard when it changes). */
  private withheld = new Set<ResourceTypeUrl>();
  /** A request for a type this stream does not serve was logged (once per stream). */
  private loggedUnservedType = false;

  /** Whether debug lines are written: their fields are built only then (they would cost on every ACK). */
  protected readonly debugLogged: boolean;

  constructor(
    protected readonly deps: StreamDeps<Response>,
    private readonly kind: StreamKind,
  ) {
    this.debugLogged = deps.logger.isLevelEnabled('debug');
  }

  /** The transport can take more: send whatever became due while it was full. */
  drained(): void {
    this.blocked = false;
    this.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    this.leavePeers?.();
    if (this.node) {
      this.deps.peers.clustersSettled(this.node.id, this);
      if (this.withheld.size > 0) this.deps.emptyState?.withholding(this.deps.streamId, this.node, []);
      this.deps.callbacks.streamClosed(this.deps.streamId);
    }
  }

  /** Takes the node from the first request; false (stream failed) if it has none or may not claim it (stream denied). */
  protected ensureNode(rawNode: RawNode | undefined): boolean {
    if (this.node) return true;
    if (!rawNode?.id) {
      this.deps.fail('the first request of a stream must carry node.id');
      return false;
    }
    const node = nodeInfo(rawNode);
    const refusal = this.deps.refusalOf?.(node);
    if (refusal !== undefined) {
      this.closed = true;
      this.deps.deny(refusal);
      return false;
    }
    this.node = node;
    const transport = { kind: this.kind, aggregated: this.deps.fixedType === undefined };
    this.transport = transport;
    this.deps.callbacks.streamOpened(this.deps.streamId, this.node, transport);
    this.leavePeers = this.deps.peers.join(this.node.id, this);
    this.watchGroup(this.deps.groupOf(this.node, transport));
    return true;
  }

  /**
   * Reads the group `groupOf` names now, when it is another (a node whose rejected change is held
   * back reads a group of its own, and its base group again once the hold ends). The next snapshot
   * is sent like any other change.
   */
  regroup(): void {
    if (this.closed || !this.node || !this.transport) return;
    const group = this.deps.groupOf(this.node, this.transport);
    if (group === this.group) return;
    this.unwatch?.();
    this.watchGroup(group);
  }

  private watchGroup(group: string): void {
    this.group = group;
    this.unwatch = this.deps.cache.watch(group, (snapshot) => {
      this.snapshot = snapshot;
      this.flush();
    });
  }

  /**
   * The request's resource type, or undefined when this stream does not serve it: such requests
   * get no answer, and only the first of the stream is logged, its type URL cut short.
   */
  protected resolveType(requested: string | undefined): ResourceTypeUrl | undefined {
    const typeUrl = requested || this.deps.fixedType || '';
    if (isResourceTypeUrl(typeUrl) && (!this.deps.fixedType || typeUrl === this.deps.fixedType)) return typeUrl;
    if (!this.loggedUnservedType) {
      this.loggedUnservedType = true;
      this.deps.logger.warn(
        { node: this.node?.id, typeUrl: forLog(typeUrl, LOGGED_TYPE_URL_CHARS), typeUrlLength: typeUrl.length },
        'request for a resource type this stream does not serve (ignored; logged once per stream)',
      );
    }
    return undefined;
  }

  protected nextNonce(): string {
    return String(++this.nonceCounter);
  }

  protected nextSequence(): number {
    return this.deps.peers.nextSequence();
  }

  /**
   * A cluster response is unanswered, or a cluster this stream added or changed still waits for
   * its endpoints and `snapshot` (the one the routes would come from) has endpoints for it — it
   * would not for a STRICT_DNS cluster or one the snapshot dropped again.
   */
  holdsRoutes(snapshot: Snapshot): boolean {
    if (this.clustersInFlight !== undefined) return true;
    for (const name of this.warming.keys()) if (snapshot.resource(ENDPOINT_TYPE, name)) return true;
    return false;
  }

  takeEndpointAnswer(versionOf: (name: string) => string | undefined, sequence: number): boolean {
    let warmed = false;
    for (const [name, sentAt] of this.warming) {
      // An answer to endpoints sent before the cluster does not warm it (a changed cluster re-warms).
      if (sequence > sentAt && versionOf(name) !== undefined) {
        this.warming.delete(name);
        warmed = true;
      }
    }
    return warmed;
  }

  servesCluster(name: string): boolean {
    return this.snapshot?.resource(CLUSTER_TYPE, name) !== undefined || this.sentClusterVersions.has(name);
  }

  /** Listeners and routes may reference clusters that are still on their way (on any of the node's streams). */
  protected heldBack(typeUrl: ResourceTypeUrl, snapshot: Snapshot): boolean {
    if (typeUrl !== LISTENER_TYPE && typeUrl !== ROUTE_TYPE) return false;
    return this.holdsRoutes(snapshot) || (this.node !== undefined && this.deps.peers.routesHeld(this.node.id, snapshot));
  }

  /**
   * Whether every listener and route the node (this stream and its peers reading the same group)
   * holds is ACKed at `snapshot`: nothing due, nothing awaiting an answer, the last answer not a
   * NACK. Until then clusters (and their endpoints) that `snapshot` dropped stay with the client,
   * as an older route may still name them.
   */
  protected routesSettled(snapshot: Snapshot): boolean {
    if (!this.node || this.group === undefined) return true;
    return this.deps.peers.routesSettled(this.node.id, this.group, snapshot);
  }

  routesSettledAt(group: string, snapshot: Snapshot): boolean {
    return group !== this.group || this.ownRoutesSettledAt(snapshot);
  }

  abstract carriesRoutes(): boolean;

  /** This stream's part of `routesSettled`: its own listener and route subscriptions. */
  protected abstract ownRoutesSettledAt(snapshot: Snapshot): boolean;

  isRetaining(): boolean {
    return this.retaining;
  }

  /** Records whether this flush kept dropped clusters or endpoints (a settled route wakes it). */
  protected setRetaining(retaining: boolean): void {
    this.retaining = retaining;
  }

  /** A listener or route response was ACKed or NACKed: peers keeping dropped clusters re-check. */
  protected routesAnswered(): void {
    if (this.node) this.deps.peers.routesAnswered(this.node.id, this);
  }

  /**
   * A cluster response was ACKed, or NACKed (`nackedSequence`: that response's number). Envoy
   * applies the clusters it accepts and names the others only in a message meant for people, so a
   * NACK ends the wait for the endpoints of every cluster sent up to that response: none of them
   * holds routes forever, at the price of not holding those Envoy did accept.
   */
  protected clustersAnswered(nonce: string | undefined, nackedSequence?: number): void {
    let settled = false;
    if (nackedSequence !== undefined) {
      for (const [name, sentAt] of this.warming) {
        if (sentAt > nackedSequence) continue;
        this.warming.delete(name);
        settled = true;
      }
    }
    if (nonce !== undefined && nonce === this.clustersInFlight) {
      this.clustersInFlight = undefined;
      settled = true;
    }
    if (settled && this.node) this.deps.peers.clustersSettled(this.node.id, this);
  }

  /** An endpoint response numbered `sequence` was ACKed or NACKed: the node's cluster streams may stop holding routes. */
  protected endpointsAnswered(versionOf: (name: string) => string | undefined, sequence: number): void {
    // Over ADS, clusters and endpoints share this stream and Envoy's cluster ACK already waits.
    if (this.node && this.deps.fixedType !== undefined) this.deps.peers.endpointsAnswered(this.node.id, this, versionOf, sequence);
  }

  /**
   * Records cluster response `sequence` in flight and returns the clusters that changed since the
   * last one: they re-warm and need a fresh endpoint response even if their endpoints did not
   * change. On a per-type cluster stream, the EDS clusters it adds or changes hold listeners and
   * routes until their endpoints are answered — unless `baselineKnown` is false (a reconnecting
   * client whose clusters sluice cannot tell apart from new ones: nothing holds then).
   */
  protected clustersSent(
    nonce: string,
    sequence: number,
    clusters: Iterable<EncodedResource>,
    complete: boolean,
    removed: string[] = [],
    baselineKnown = true,
  ): string[] {
    this.clustersInFlight = nonce;
    const warms = this.deps.fixedType === CLUSTER_TYPE && baselineKnown;
    const changed: string[] = [];
    const next = complete ? new Map<string, string>() : this.sentClusterVersions;
    for (const name of removed) next.delete(name);
    for (const cluster of clusters) {
      const before = this.sentClusterVersions.get(cluster.name);
      if (before !== undefined && before !== cluster.version) changed.push(cluster.name);
      if (warms && before !== cluster.version && this.snapshot?.resource(ENDPOINT_TYPE, cluster.name)) {
        this.warming.set(cluster.name, sequence);
      }
      next.set(cluster.name, cluster.version);
    }
    this.sentClusterVersions = next;
    for (const name of this.warming.keys()) if (!next.has(name)) this.warming.delete(name);
    return changed;
  }

  /** Remembers clusters the client already had when it connected (nothing was sent for them). */
  protected clustersKnown(clusters: Iterable<{ name: string; version: string }>): void {
    for (const cluster of clusters) this.sentClusterVersions.set(cluster.name, cluster.version);
  }

  /** The client says it holds configuration (a first request declared a version). */
  protected declaresConfig(): void {
    this.declaredConfig = true;
  }

  /**
   * Whether a response for `typeUrl` that would change what the client holds must be withheld
   * (the client keeps its configuration); records the type as withheld if so.
   */
  protected withholds(typeUrl: ResourceTypeUrl): boolean {
    if (!this.guarding) return false;
    this.withheld.add(typeUrl);
    return true;
  }

  /** Writes and reports; returns false when the transport is full (the rest waits for `drained`). */
  protected writeResponse(response: Response): boolean {
    const writable = this.deps.write(response);
    if (!writable) this.blocked = true;
    return writable;
  }

  flush(): void {
    if (!this.snapshot || this.blocked || this.closed) return;
    this.retaining = false;
    const snapshot = this.snapshot;
    const guard = this.deps.emptyState;
    const empty = guard !== undefined && guard.isEmpty(snapshot);
    if (!empty) this.servedState = true;
    this.guarding = empty && this.declaredConfig && !this.servedState;
    const before = this.withheld.size;
    if (!this.guarding) this.withheld.clear();
    this.flushTypes(snapshot);
    if (this.node && guard && this.withheld.size !== before) {
      this.deps.emptyState?.withholding(this.deps.streamId, this.node, [...this.withheld]);
    }
  }

  protected abstract flushTypes(snapshot: Snapshot): void;
}
