// One state-of-the-world ADS stream: subscriptions, nonces, ACK/NACK and what to send when the
// group's snapshot changes. It never encodes a resource (the snapshot did) and knows nothing of
// gRPC: it writes responses through `write`, which reports backpressure.
//
// Rules (XDS-NOTES §1.3, §1.6): a request whose nonce is not the last one sent for its type is
// stale and ignored; a NACK is an `error_detail`, and the rejected version is not sent again
// until the snapshot changes; newly requested names are always answered; listeners and routes
// wait while a cluster response is unacknowledged (make-before-break), endpoints never wait, and
// a changed cluster's endpoints are re-sent even when unchanged.

import type { Logger } from 'pino';
import type { SnapshotCache } from '../cache.js';
import type { EncodedResource, Snapshot } from '../snapshot.js';
import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  LISTENER_TYPE,
  PUSH_ORDER,
  ROUTE_TYPE,
  SHORT_TYPE_NAMES,
  WILDCARD_TYPES,
  isResourceTypeUrl,
  type ResourceTypeUrl,
} from '../type-urls.js';
import type { StreamCallbacks } from './callbacks.js';
import { nodeInfo, type DiscoveryRequest, type DiscoveryResponse, type NodeInfo } from './messages.js';

export const CONTROL_PLANE_ID = 'sluice';

export interface SotwStreamDeps {
  streamId: number;
  cache: SnapshotCache;
  groupOf(node: NodeInfo): string;
  callbacks: StreamCallbacks;
  logger: Logger;
  /** Writes one response; false means the transport is full and `drained()` will follow. */
  write(response: DiscoveryResponse): boolean;
  /** Ends the stream with an error the client can read. */
  fail(message: string): void;
}

interface TypeState {
  wildcard: boolean;
  /** The client has named a resource at least once (legacy empty-list wildcard no longer applies). */
  everNamed: boolean;
  names: Set<string>;
  /** Version the client said it had on its first request of this stream. */
  clientVersion: string;
  nonce?: string;
  sentVersion?: string;
  sentNames: Set<string>;
  /** Resend even if the version is unchanged (endpoints of a changed cluster). */
  forceSend: boolean;
}

export class SotwStream {
  private node: NodeInfo | undefined;
  private snapshot: Snapshot | undefined;
  private unwatch: (() => void) | undefined;
  private readonly types = new Map<ResourceTypeUrl, TypeState>();
  private nonceCounter = 0;
  private blocked = false;
  private closed = false;
  /** Nonce of a cluster response not yet ACKed or NACKed; listeners and routes wait for it. */
  private clustersInFlight: string | undefined;
  private sentClusterVersions = new Map<string, string>();

  constructor(private readonly deps: SotwStreamDeps) {}

  handleRequest(request: DiscoveryRequest): void {
    if (this.closed) return;
    if (!this.node) {
      if (!request.node?.id) {
        this.deps.fail('the first request of a stream must carry node.id');
        return;
      }
      this.node = nodeInfo(request.node);
      this.deps.callbacks.streamOpened(this.deps.streamId, this.node, 'sotw');
      this.unwatch = this.deps.cache.watch(this.deps.groupOf(this.node), (snapshot) => this.onSnapshot(snapshot));
    }
    const typeUrl = request.type_url ?? '';
    if (!isResourceTypeUrl(typeUrl)) {
      this.deps.logger.warn({ node: this.node.id, typeUrl }, 'request for a resource type sluice does not serve');
      return;
    }
    const nonce = request.response_nonce ?? '';
    let state = this.types.get(typeUrl);
    if (nonce !== '' && nonce !== state?.nonce) {
      this.deps.logger.debug({ node: this.node.id, typeUrl, nonce, current: state?.nonce }, 'stale nonce ignored');
      return;
    }
    if (!state) {
      state = {
        wildcard: false,
        everNamed: false,
        names: new Set(),
        clientVersion: nonce === '' ? (request.version_info ?? '') : '',
        sentNames: new Set(),
        forceSend: false,
      };
      this.types.set(typeUrl, state);
    }
    if (nonce !== '') this.recordAckOrNack(typeUrl, state, request);
    this.updateSubscription(typeUrl, state, request.resource_names ?? []);
    this.flush();
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
    if (this.node) this.deps.callbacks.streamClosed(this.deps.streamId);
  }

  private onSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.flush();
  }

  private recordAckOrNack(typeUrl: ResourceTypeUrl, state: TypeState, request: DiscoveryRequest): void {
    if (typeUrl === CLUSTER_TYPE && this.clustersInFlight === request.response_nonce) this.clustersInFlight = undefined;
    const log = { node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], nonce: request.response_nonce };
    if (request.error_detail) {
      const message = request.error_detail.message ?? '';
      this.deps.logger.warn({ ...log, version: state.sentVersion, error: message }, 'NACK');
      this.deps.callbacks.nacked(this.deps.streamId, typeUrl, state.sentVersion ?? '', message);
    } else {
      this.deps.logger.debug({ ...log, version: request.version_info }, 'ACK');
      this.deps.callbacks.acked(this.deps.streamId, typeUrl, request.version_info ?? '');
    }
  }

  private updateSubscription(typeUrl: ResourceTypeUrl, state: TypeState, names: string[]): void {
    const explicit = names.filter((name) => name !== '*');
    if (WILDCARD_TYPES.has(typeUrl)) {
      state.wildcard = names.includes('*') || (names.length === 0 && !state.everNamed);
    }
    if (explicit.length > 0) state.everNamed = true;
    state.names = new Set(explicit);
  }

  private responseSet(typeUrl: ResourceTypeUrl, state: TypeState, snapshot: Snapshot): EncodedResource[] {
    const all = snapshot.type(typeUrl).resources;
    if (state.wildcard) return [...all.values()];
    const out: EncodedResource[] = [];
    for (const name of [...state.names].sort()) {
      const resource = all.get(name);
      if (resource) out.push(resource);
    }
    return out;
  }

  private flush(): void {
    const snapshot = this.snapshot;
    if (!snapshot || this.blocked || this.closed) return;
    for (const typeUrl of PUSH_ORDER) {
      const state = this.types.get(typeUrl);
      if (!state) continue;
      if ((typeUrl === LISTENER_TYPE || typeUrl === ROUTE_TYPE) && this.clustersInFlight !== undefined) continue;
      const version = snapshot.type(typeUrl).version;
      const resources = this.responseSet(typeUrl, state, snapshot);

      if (state.sentVersion === undefined && state.wildcard && state.clientVersion === version) {
        // A reconnecting client already has exactly this: nothing to send (XDS-NOTES §1.7).
        state.sentVersion = version;
        state.sentNames = new Set(resources.map((r) => r.name));
        if (typeUrl === CLUSTER_TYPE) for (const r of resources) this.sentClusterVersions.set(r.name, r.version);
        this.deps.callbacks.acked(this.deps.streamId, typeUrl, version);
        continue;
      }
      const hasNewNames = resources.some((r) => !state.sentNames.has(r.name));
      const due = state.sentVersion !== version || hasNewNames || state.forceSend;
      if (!due) continue;
      if (!state.wildcard && resources.length === 0) continue;
      if (!this.send(typeUrl, state, version, resources)) return;
    }
  }

  /** Returns false when the transport is full. */
  private send(typeUrl: ResourceTypeUrl, state: TypeState, version: string, resources: EncodedResource[]): boolean {
    const nonce = String(++this.nonceCounter);
    state.nonce = nonce;
    state.sentVersion = version;
    state.sentNames = new Set(resources.map((r) => r.name));
    state.forceSend = false;
    if (typeUrl === CLUSTER_TYPE) this.afterClustersSent(nonce, resources);
    const response: DiscoveryResponse = {
      version_info: version,
      resources: resources.map((r) => ({ type_url: typeUrl, value: r.bytes })),
      type_url: typeUrl,
      nonce,
      control_plane: { identifier: CONTROL_PLANE_ID },
    };
    const writable = this.deps.write(response);
    this.deps.logger.debug(
      { node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], version, nonce, resources: resources.length },
      'response sent',
    );
    this.deps.callbacks.responseSent(this.deps.streamId, typeUrl, version, nonce, resources.length);
    if (!writable) this.blocked = true;
    return writable;
  }

  /** A changed cluster re-warms and needs a fresh endpoint response even if its endpoints did not change. */
  private afterClustersSent(nonce: string, clusters: EncodedResource[]): void {
    this.clustersInFlight = nonce;
    const endpoints = this.types.get(ENDPOINT_TYPE);
    const next = new Map<string, string>();
    for (const cluster of clusters) {
      const before = this.sentClusterVersions.get(cluster.name);
      if (before !== undefined && before !== cluster.version && endpoints?.names.has(cluster.name)) endpoints.forceSend = true;
      next.set(cluster.name, cluster.version);
    }
    this.sentClusterVersions = next;
  }
}
