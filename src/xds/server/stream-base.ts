// What SotW and delta streams share: the node, the watch on its group's snapshot, backpressure,
// make-before-break both ways (routes wait for unacknowledged clusters; dropped clusters wait for
// the node's routes to settle at the snapshot) and which clusters changed so their endpoints are
// re-sent. Protocol bookkeeping lives in the subclasses; nothing here encodes or knows gRPC.

import type { Logger } from 'pino';
import type { SnapshotCache } from '../cache.js';
import type { EncodedResource, Snapshot } from '../snapshot.js';
import { LISTENER_TYPE, ROUTE_TYPE, isResourceTypeUrl, type ResourceTypeUrl } from '../type-urls.js';
import type { StreamCallbacks, StreamKind, StreamTransport } from './callbacks.js';
import { nodeInfo, type NodeInfo, type RawNode } from './messages.js';
import type { NodePeers, PeerStream } from './node-peers.js';

export const CONTROL_PLANE_ID = 'sluice';

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
  /** Writes one response; false means the transport is full and `drained()` will follow. */
  write(response: Response): boolean;
  /** Ends the stream with an error the client can read. */
  fail(message: string): void;
}

export abstract class StreamBase<Response> implements PeerStream {
  protected node: NodeInfo | undefined;
  protected snapshot: Snapshot | undefined;
  protected closed = false;
  /** The snapshot group this stream reads (set with the node). */
  private group: string | undefined;
  /** The last flush kept clusters or endpoints the snapshot dropped (it waits for routes to settle). */
  private retaining = false;
  private unwatch: (() => void) | undefined;
  private leavePeers: (() => void) | undefined;
  private blocked = false;
  private nonceCounter = 0;
  /** Nonce of a cluster response not yet ACKed or NACKed; listeners and routes wait for it. */
  private clustersInFlight: string | undefined;
  private sentClusterVersions = new Map<string, string>();

  constructor(
    protected readonly deps: StreamDeps<Response>,
    private readonly kind: StreamKind,
  ) {}

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
      this.deps.callbacks.streamClosed(this.deps.streamId);
    }
  }

  /** Takes the node from the first request; false (stream failed) if it has none. */
  protected ensureNode(rawNode: RawNode | undefined): boolean {
    if (this.node) return true;
    if (!rawNode?.id) {
      this.deps.fail('the first request of a stream must carry node.id');
      return false;
    }
    this.node = nodeInfo(rawNode);
    const transport = { kind: this.kind, aggregated: this.deps.fixedType === undefined };
    this.deps.callbacks.streamOpened(this.deps.streamId, this.node, transport);
    this.leavePeers = this.deps.peers.join(this.node.id, this);
    const group = this.deps.groupOf(this.node, transport);
    this.group = group;
    this.unwatch = this.deps.cache.watch(group, (snapshot) => {
      this.snapshot = snapshot;
      this.flush();
    });
    return true;
  }

  /** The request's resource type, or undefined (logged) when this stream does not serve it. */
  protected resolveType(requested: string | undefined): ResourceTypeUrl | undefined {
    const typeUrl = requested || this.deps.fixedType || '';
    if (isResourceTypeUrl(typeUrl) && (!this.deps.fixedType || typeUrl === this.deps.fixedType)) return typeUrl;
    this.deps.logger.warn({ node: this.node?.id, typeUrl }, 'request for a resource type this stream does not serve');
    return undefined;
  }

  protected nextNonce(): string {
    return String(++this.nonceCounter);
  }

  hasClustersInFlight(): boolean {
    return this.clustersInFlight !== undefined;
  }

  /** Listeners and routes may reference clusters that are still on their way (on any of the node's streams). */
  protected heldBack(typeUrl: ResourceTypeUrl): boolean {
    if (typeUrl !== LISTENER_TYPE && typeUrl !== ROUTE_TYPE) return false;
    return this.clustersInFlight !== undefined || (this.node !== undefined && this.deps.peers.clustersInFlight(this.node.id));
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

  protected clustersAnswered(nonce: string | undefined): void {
    if (nonce === undefined || nonce !== this.clustersInFlight) return;
    this.clustersInFlight = undefined;
    if (this.node) this.deps.peers.clustersSettled(this.node.id, this);
  }

  /**
   * Records a cluster response in flight and returns the clusters that changed since the last
   * one: they re-warm and need a fresh endpoint response even if their endpoints did not change.
   */
  protected clustersSent(nonce: string, clusters: Iterable<EncodedResource>, complete: boolean, removed: string[] = []): string[] {
    this.clustersInFlight = nonce;
    const changed: string[] = [];
    const next = complete ? new Map<string, string>() : this.sentClusterVersions;
    for (const name of removed) next.delete(name);
    for (const cluster of clusters) {
      const before = this.sentClusterVersions.get(cluster.name);
      if (before !== undefined && before !== cluster.version) changed.push(cluster.name);
      next.set(cluster.name, cluster.version);
    }
    this.sentClusterVersions = next;
    return changed;
  }

  /** Remembers clusters the client already had when it connected (nothing was sent for them). */
  protected clustersKnown(clusters: Iterable<{ name: string; version: string }>): void {
    for (const cluster of clusters) this.sentClusterVersions.set(cluster.name, cluster.version);
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
    this.flushTypes(this.snapshot);
  }

  protected abstract flushTypes(snapshot: Snapshot): void;
}
