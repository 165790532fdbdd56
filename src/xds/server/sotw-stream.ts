// One state-of-the-world stream (ADS or a per-type service): subscriptions, nonces, ACK/NACK and
// what to send when the group's snapshot changes. It never encodes a resource (the snapshot did;
// clusters kept for make-before-break are the bytes sent before) and knows nothing of gRPC.
//
// Rules (XDS-NOTES §1.3): a request whose nonce is not the last one sent for its type is stale
// and ignored; a NACK is an `error_detail`, and the rejected version is not sent again until the
// snapshot changes; newly requested names are always answered; listener and cluster responses
// carry the full set; a reconnecting client that already has the current version of a wildcard
// type is sent nothing for it; clusters the snapshot dropped stay in the cluster responses (under
// a version no snapshot has) until the node's listeners and routes are ACKed at that snapshot; a
// client whose first request of a type carried a version (it holds configuration) is sent nothing
// that would change it while the snapshot comes from a state with no service (see stream-base.ts).

import { retainingVersion, type EncodedResource, type Snapshot } from '../snapshot.js';
import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  LISTENER_TYPE,
  PUSH_ORDER,
  ROUTE_TYPE,
  SHORT_TYPE_NAMES,
  WILDCARD_TYPES,
  type ResourceTypeUrl,
} from '../type-urls.js';
import type { DiscoveryRequest, EncodedResponse } from './messages.js';
import type { ResponseBodies } from './response-bodies.js';
import { StreamBase, forLog, type StreamDeps } from './stream-base.js';

interface TypeState {
  wildcard: boolean;
  /** The client has named a resource at least once (the legacy empty-list wildcard no longer applies). */
  everNamed: boolean;
  names: Set<string>;
  /** Version the client said it had on its first request of this stream. */
  clientVersion: string;
  nonce?: string;
  /** The number of the last response (clusters and endpoints: make-before-break across streams). */
  sequence?: number;
  sentVersion?: string;
  /** The resources of the last response (or those a reconnecting client already had), by name. */
  sent: ReadonlyMap<string, EncodedResource>;
  /** Resend even if the version is unchanged (endpoints of a changed cluster). */
  forceSend: boolean;
  /** The last response is not ACKed or NACKed yet. */
  awaiting: boolean;
  /** The last response was NACKed: the client kept what it had before. */
  nacked: boolean;
  /** The version last reported to the callbacks as what the client holds. */
  reportedVersion?: string;
  /** The subscription changed since the last response (or since the client's holdings were recorded). */
  subscriptionChanged: boolean;
}

/** What a type needs at a snapshot: nothing, to record what a reconnecting client has, or a response. */
type Plan =
  | { action: 'none'; retaining: boolean }
  | {
      action: 'known' | 'send';
      version: string;
      resources: readonly EncodedResource[];
      /** The resources by name when they are the snapshot's whole set of the type (its own map, shared). */
      byName?: ReadonlyMap<string, EncodedResource>;
      retaining: boolean;
    };

const SETTLED: Plan = { action: 'none', retaining: false };

function byName(a: EncodedResource, b: EncodedResource): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function sameResources(resources: readonly EncodedResource[], sent: ReadonlyMap<string, EncodedResource>): boolean {
  return resources.length === sent.size && resources.every((r) => sent.get(r.name)?.version === r.version);
}

export class SotwStream extends StreamBase<EncodedResponse> {
  private readonly types = new Map<ResourceTypeUrl, TypeState>();

  constructor(
    deps: StreamDeps<EncodedResponse>,
    private readonly bodies: ResponseBodies,
  ) {
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
        sent: new Map(),
        forceSend: false,
        awaiting: false,
        nacked: false,
        subscriptionChanged: false,
      };
      this.types.set(typeUrl, state);
      this.deps.callbacks.subscribed(this.deps.streamId, typeUrl);
      if (state.clientVersion !== '') this.declaresConfig();
    }
    if (nonce !== '') this.recordAckOrNack(typeUrl, state, request);
    this.updateSubscription(typeUrl, state, request.resource_names ?? []);
    this.flush();
    if (nonce !== '' && (typeUrl === LISTENER_TYPE || typeUrl === ROUTE_TYPE)) this.routesAnswered();
  }

  private recordAckOrNack(typeUrl: ResourceTypeUrl, state: TypeState, request: DiscoveryRequest): void {
    const nacked = request.error_detail !== undefined && request.error_detail !== null;
    if (typeUrl === CLUSTER_TYPE) this.clustersAnswered(request.response_nonce, nacked ? state.sequence : undefined);
    if (typeUrl === ENDPOINT_TYPE && state.sequence !== undefined) {
      const sent = state.sent;
      this.endpointsAnswered((name) => sent.get(name)?.version, state.sequence);
    }
    state.awaiting = false;
    state.nacked = nacked;
    if (request.error_detail) {
      const message = request.error_detail.message ?? '';
      this.deps.logger.warn(
        { node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], nonce: request.response_nonce, version: state.sentVersion, error: forLog(message) },
        'NACK',
      );
      this.deps.callbacks.nacked(this.deps.streamId, typeUrl, state.sentVersion ?? '', message);
    } else {
      if (this.debugLogged) {
        this.deps.logger.debug({ node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], nonce: request.response_nonce, version: request.version_info }, 'ACK');
      }
      state.reportedVersion = request.version_info ?? '';
      this.deps.callbacks.acked(this.deps.streamId, typeUrl, state.reportedVersion);
    }
  }

  private updateSubscription(typeUrl: ResourceTypeUrl, state: TypeState, names: string[]): void {
    const explicit = names.filter((name) => name !== '*');
    const wildcard = WILDCARD_TYPES.has(typeUrl) ? names.includes('*') || (names.length === 0 && !state.everNamed) : state.wildcard;
    if (explicit.length > 0) state.everNamed = true;
    const subscribed = new Set(explicit);
    if (wildcard === state.wildcard && subscribed.size === state.names.size && explicit.every((name) => state.names.has(name))) return;
    state.wildcard = wildcard;
    state.names = subscribed;
    state.subscriptionChanged = true;
  }

  private responseSet(typeUrl: ResourceTypeUrl, state: TypeState, snapshot: Snapshot): readonly EncodedResource[] {
    const all = snapshot.type(typeUrl).resources;
    if (state.wildcard) return snapshot.type(typeUrl).list;
    const out: EncodedResource[] = [];
    for (const name of [...state.names].sort()) {
      const resource = all.get(name);
      if (resource) out.push(resource);
    }
    return out;
  }

  /** What `typeUrl` needs at `snapshot`, ignoring make-before-break's hold on listeners and routes. */
  private plan(typeUrl: ResourceTypeUrl, state: TypeState, snapshot: Snapshot): Plan {
    let version = snapshot.type(typeUrl).version;
    // The common case of an ACK: the client holds this version of what it still subscribes to.
    if (state.sentVersion === version && state.reportedVersion === version && !state.forceSend && !state.subscriptionChanged) return SETTLED;
    let resources = this.responseSet(typeUrl, state, snapshot);
    let retaining = false;
    const whole = state.wildcard ? { byName: snapshot.type(typeUrl).resources } : {};

    if (state.sentVersion === undefined && state.wildcard && state.clientVersion === version) {
      // A reconnecting client already has exactly this: nothing to send (XDS-NOTES §1.7).
      return { action: 'known', version, resources, ...whole, retaining };
    }
    if (typeUrl === CLUSTER_TYPE) {
      // Clusters the client has that the snapshot dropped: an older route may still name them.
      const dropped: EncodedResource[] = [];
      for (const r of state.sent.values()) {
        if (!snapshot.resource(CLUSTER_TYPE, r.name) && (state.wildcard || state.names.has(r.name))) dropped.push(r);
      }
      if (dropped.length > 0 && !this.routesSettled(snapshot)) {
        retaining = true;
        resources = [...resources, ...dropped].sort(byName);
        version = retainingVersion(version, dropped);
        // The client holds exactly this already (only removals are waiting): nothing to send yet.
        if (sameResources(resources, state.sent)) return { action: 'none', retaining };
      }
    }
    if (!state.wildcard && resources.length === 0) {
      // Nothing it names exists (it dropped its last EDS cluster, say): no answer is due, and the
      // client holds exactly what it asks for (nothing) at this version — also after it ACKs an
      // older response.
      const settled = state.sentVersion === version && state.reportedVersion === version;
      return settled ? { action: 'none', retaining } : { action: 'known', version, resources, retaining };
    }
    const hasNewNames = resources.some((r) => !state.sent.has(r.name));
    const due = state.sentVersion !== version || hasNewNames || state.forceSend;
    if (!due) return { action: 'none', retaining };
    return { action: 'send', version, resources, ...(retaining ? {} : whole), retaining };
  }

  carriesRoutes(): boolean {
    return this.types.has(LISTENER_TYPE) || this.types.has(ROUTE_TYPE);
  }

  protected ownRoutesSettledAt(snapshot: Snapshot): boolean {
    for (const typeUrl of [LISTENER_TYPE, ROUTE_TYPE] as const) {
      const state = this.types.get(typeUrl);
      if (!state) continue;
      if (state.awaiting || state.nacked) return false;
      if (this.plan(typeUrl, state, snapshot).action === 'send') return false;
    }
    return true;
  }

  protected flushTypes(snapshot: Snapshot): void {
    for (const typeUrl of PUSH_ORDER) {
      const state = this.types.get(typeUrl);
      if (!state || this.heldBack(typeUrl, snapshot)) continue;
      const plan = this.plan(typeUrl, state, snapshot);
      if (plan.retaining) this.setRetaining(true);
      if (plan.action === 'send' && this.withholds(typeUrl)) continue;
      if (!this.apply(typeUrl, state, plan)) return;
    }
  }

  /** Carries out a plan; returns false when the transport is full. */
  private apply(typeUrl: ResourceTypeUrl, state: TypeState, plan: Plan): boolean {
    if (plan.action === 'none') return true;
    if (plan.action === 'known') {
      state.sentVersion = plan.version;
      state.sent = plan.byName ?? new Map(plan.resources.map((r) => [r.name, r]));
      state.subscriptionChanged = false;
      if (typeUrl === CLUSTER_TYPE) this.clustersKnown(plan.resources);
      state.reportedVersion = plan.version;
      this.deps.callbacks.acked(this.deps.streamId, typeUrl, plan.version);
      return true;
    }
    return this.send(typeUrl, state, plan);
  }

  /** Returns false when the transport is full. */
  private send(typeUrl: ResourceTypeUrl, state: TypeState, { version, resources, byName }: Extract<Plan, { action: 'send' | 'known' }>): boolean {
    // A reconnecting client's first response: sluice cannot tell which clusters it already had.
    const baselineKnown = state.sentVersion !== undefined || state.clientVersion === '';
    const nonce = this.nextNonce();
    const sequence = this.nextSequence();
    state.nonce = nonce;
    state.sequence = sequence;
    state.sentVersion = version;
    state.sent = byName ?? new Map(resources.map((r) => [r.name, r]));
    state.forceSend = false;
    state.subscriptionChanged = false;
    state.awaiting = true;
    state.nacked = false;
    if (typeUrl === CLUSTER_TYPE) {
      const endpoints = this.types.get(ENDPOINT_TYPE);
      for (const name of this.clustersSent(nonce, sequence, resources, true, [], baselineKnown)) {
        if (endpoints?.names.has(name)) endpoints.forceSend = true;
      }
    }
    const writable = this.writeResponse({ body: this.bodies.body(typeUrl, version, resources, byName !== undefined), nonce });
    if (this.debugLogged) {
      this.deps.logger.debug({ node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], version, nonce, resources: resources.length }, 'response sent');
    }
    this.deps.callbacks.responseSent(this.deps.streamId, typeUrl, version, nonce, resources.length);
    return writable;
  }
}
