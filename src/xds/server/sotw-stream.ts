// One state-of-the-world stream (ADS or a per-type service): subscriptions, nonces, ACK/NACK and
// what to send when the group's snapshot changes. It never encodes a resource (the snapshot did)
// and knows nothing of gRPC.
//
// Rules (XDS-NOTES §1.3): a request whose nonce is not the last one sent for its type is stale
// and ignored; a NACK is an `error_detail`, and the rejected version is not sent again until the
// snapshot changes; newly requested names are always answered; listener and cluster responses
// carry the full set; a reconnecting client that already has the current version of a wildcard
// type is sent nothing for it.

import type { EncodedResource, Snapshot } from '../snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, PUSH_ORDER, SHORT_TYPE_NAMES, WILDCARD_TYPES, type ResourceTypeUrl } from '../type-urls.js';
import type { DiscoveryRequest, DiscoveryResponse } from './messages.js';
import { CONTROL_PLANE_ID, StreamBase, type StreamDeps } from './stream-base.js';

interface TypeState {
  wildcard: boolean;
  /** The client has named a resource at least once (the legacy empty-list wildcard no longer applies). */
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

export class SotwStream extends StreamBase<DiscoveryResponse> {
  private readonly types = new Map<ResourceTypeUrl, TypeState>();

  constructor(deps: StreamDeps<DiscoveryResponse>) {
    super(deps, 'sotw');
  }

  handleRequest(request: DiscoveryRequest): void {
    if (this.closed || !this.ensureNode(request.node)) return;
    const typeUrl = this.resolveType(request.type_url);
    if (!typeUrl) return;
    const nonce = request.response_nonce ?? '';
    let state = this.types.get(typeUrl);
    if (nonce !== '' && nonce !== state?.nonce) {
      this.deps.logger.debug({ node: this.node?.id, typeUrl, nonce, current: state?.nonce }, 'stale nonce ignored');
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

  private recordAckOrNack(typeUrl: ResourceTypeUrl, state: TypeState, request: DiscoveryRequest): void {
    if (typeUrl === CLUSTER_TYPE) this.clustersAnswered(request.response_nonce);
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

  protected flushTypes(snapshot: Snapshot): void {
    for (const typeUrl of PUSH_ORDER) {
      const state = this.types.get(typeUrl);
      if (!state || this.heldBack(typeUrl)) continue;
      const version = snapshot.type(typeUrl).version;
      const resources = this.responseSet(typeUrl, state, snapshot);

      if (state.sentVersion === undefined && state.wildcard && state.clientVersion === version) {
        // A reconnecting client already has exactly this: nothing to send (XDS-NOTES §1.7).
        state.sentVersion = version;
        state.sentNames = new Set(resources.map((r) => r.name));
        if (typeUrl === CLUSTER_TYPE) this.clustersKnown(resources);
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
    const nonce = this.nextNonce();
    state.nonce = nonce;
    state.sentVersion = version;
    state.sentNames = new Set(resources.map((r) => r.name));
    state.forceSend = false;
    if (typeUrl === CLUSTER_TYPE) {
      const endpoints = this.types.get(ENDPOINT_TYPE);
      for (const name of this.clustersSent(nonce, resources, true)) {
        if (endpoints?.names.has(name)) endpoints.forceSend = true;
      }
    }
    const writable = this.writeResponse({
      version_info: version,
      resources: resources.map((r) => ({ type_url: typeUrl, value: r.bytes })),
      type_url: typeUrl,
      nonce,
      control_plane: { identifier: CONTROL_PLANE_ID },
    });
    this.deps.logger.debug(
      { node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], version, nonce, resources: resources.length },
      'response sent',
    );
    this.deps.callbacks.responseSent(this.deps.streamId, typeUrl, version, nonce, resources.length);
    return writable;
  }
}
