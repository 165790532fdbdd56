// One incremental (delta) stream (ADS or a per-type service): per resource, what the client has;
// subscribe / unsubscribe; `initial_resource_versions` on reconnect; and what to send or remove
// when the group's snapshot changes. Never encodes a resource and knows nothing of gRPC.
//
// Rules (XDS-NOTES §1.4): subscription changes are honoured whatever the nonce (the nonce only
// correlates ACK/NACK); every name subscribed after the first request of a type is answered, with
// the resource or in `removed_resources` when it does not exist, and a fresh client's first
// request of a type even when there is nothing to send (Envoy's start-up waits for it); on a
// reconnect's first request, names the client declared holding at the current version need no
// answer: only resources whose version differs are sent and names the server no longer has are
// removed; a pure unsubscribe needs no answer, except a name still covered by the wildcard, which
// is sent again; a NACKed version of a resource is not sent again until the resource changes;
// clusters and endpoints the snapshot dropped are removed only once the node's listeners and
// routes are ACKed at that snapshot; a client whose first request of a type carried
// `initial_resource_versions` (it holds configuration) is sent nothing that would change it while
// the snapshot comes from a state with no service (see stream-base.ts).

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
import type { DeltaDiscoveryRequest, EncodedResponse } from './messages.js';
import type { ResponseBodies } from './response-bodies.js';
import { StreamBase, forLog, type StreamDeps } from './stream-base.js';

/** Sent responses remembered for ACK/NACK correlation; older ones are forgotten. */
const MAX_OUTSTANDING = 64;

interface SentResponse {
  /** The response's number (clusters and endpoints: make-before-break across streams). */
  sequence: number;
  /** The type's snapshot version once the client applies this response. */
  typeVersion: string;
  /** Versions the client had before, per name sent or removed (undefined = it had none). */
  previous: Map<string, string | undefined>;
  /** Versions this response carried, per name (undefined = removed). */
  carried: Map<string, string | undefined>;
}

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** What the client holds, by name → version, as far as sluice knows. */
  held: Map<string, string>;
  /** Names to answer even if the client holds their current version. */
  mustAnswer: Set<string>;
  /** Versions the client rejected, by name; not offered again. */
  rejected: Map<string, string>;
  sent: Map<string, SentResponse>;
  /** Whether the first request of this type on this stream was seen. */
  started: boolean;
  /** Nothing was sent for this type yet: the first request is answered even if empty, or Envoy waits. */
  unanswered: boolean;
  /** The client is known to hold the snapshot's version of every resource it wants. */
  reportedVersion?: string;
}

export class DeltaStream extends StreamBase<EncodedResponse> {
  private readonly types = new Map<ResourceTypeUrl, TypeState>();
  /**
   * Clusters sent changed before this stream's endpoint subscription began (a reconnect: the
   * cluster request comes first). They re-warm, so their endpoints are answered once subscribed
   * even where the client declares holding the current version.
   */
  private readonly endpointsOwed = new Set<string>();

  constructor(
    deps: StreamDeps<EncodedResponse>,
    private readonly bodies: ResponseBodies,
  ) {
    super(deps, 'delta');
  }

  handleRequest(request: DeltaDiscoveryRequest): void {
    if (this.closed || !this.ensureNode(request.node)) return;
    const typeUrl = this.resolveType(request.type_url);
    if (!typeUrl) return;
    let state = this.types.get(typeUrl);
    if (!state) {
      state = { wildcard: false, names: new Set(), held: new Map(), mustAnswer: new Set(), rejected: new Map(), sent: new Map(), started: false, unanswered: true };
      this.types.set(typeUrl, state);
      this.deps.callbacks.subscribed(this.deps.streamId, typeUrl);
    }
    const nonce = request.response_nonce ?? '';
    if (nonce !== '') this.recordAckOrNack(typeUrl, state, nonce, request);
    this.updateSubscription(typeUrl, state, request);
    // Subscriptions add up over requests: the names limit holds for the sum too.
    if (!this.deps.subscriptionWithinLimit(state.names.size)) return;
    this.flush();
    if (nonce !== '' && (typeUrl === LISTENER_TYPE || typeUrl === ROUTE_TYPE)) this.routesAnswered();
  }

  private recordAckOrNack(typeUrl: ResourceTypeUrl, state: TypeState, nonce: string, request: DeltaDiscoveryRequest): void {
    const sent = state.sent.get(nonce);
    state.sent.delete(nonce);
    // A NACK of a response no longer remembered counts as a NACK of everything sent so far.
    if (typeUrl === CLUSTER_TYPE) this.clustersAnswered(nonce, request.error_detail ? (sent?.sequence ?? Number.MAX_SAFE_INTEGER) : undefined);
    if (typeUrl === ENDPOINT_TYPE && sent) this.endpointsAnswered((name) => sent.carried.get(name), sent.sequence);
    if (request.error_detail) {
      const message = request.error_detail.message ?? '';
      this.deps.logger.warn({ node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], nonce, version: sent?.typeVersion, error: forLog(message) }, 'NACK');
      if (sent) {
        for (const [name, version] of sent.carried) {
          if (version !== undefined) state.rejected.set(name, version);
          const before = sent.previous.get(name);
          if (before === undefined) state.held.delete(name);
          else state.held.set(name, before);
        }
      }
      this.deps.callbacks.nacked(this.deps.streamId, typeUrl, sent?.typeVersion ?? '', message);
      return;
    }
    if (this.debugLogged) this.deps.logger.debug({ node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], nonce, version: sent?.typeVersion }, 'ACK');
    if (sent) {
      for (const name of sent.carried.keys()) state.rejected.delete(name);
      if (this.isCurrent(typeUrl, state)) this.reportCurrent(typeUrl, state, sent.typeVersion);
    }
  }

  private updateSubscription(typeUrl: ResourceTypeUrl, state: TypeState, request: DeltaDiscoveryRequest): void {
    const subscribe = request.resource_names_subscribe ?? [];
    const unsubscribe = request.resource_names_unsubscribe ?? [];
    // On the first request, a name the client declared holding is answered only if it differs.
    let declared: ReadonlySet<string> = new Set();
    if (!state.started) {
      state.started = true;
      const initial = Object.entries(request.initial_resource_versions ?? {});
      if (initial.length > 0) this.declaresConfig();
      for (const [name, version] of initial) state.held.set(name, version);
      declared = new Set(state.held.keys());
      // What the client holds is the baseline for telling a changed cluster (which re-warms) from a new one.
      if (typeUrl === CLUSTER_TYPE) this.clustersKnown(initial.map(([name, version]) => ({ name, version })));
      if (typeUrl === ENDPOINT_TYPE) {
        declared = new Set([...declared].filter((name) => !this.endpointsOwed.has(name)));
        this.endpointsOwed.clear();
      }
      // A reconnecting client is past its start-up: it needs an answer only if something differs.
      state.unanswered = initial.length === 0;
      // Legacy wildcard: a first request that names nothing subscribes to everything.
      if (WILDCARD_TYPES.has(typeUrl) && subscribe.length === 0 && unsubscribe.length === 0) state.wildcard = true;
    }
    for (const name of subscribe) {
      if (name === '*') {
        state.wildcard = true;
        continue;
      }
      state.names.add(name);
      if (!declared.has(name)) state.mustAnswer.add(name);
    }
    for (const name of unsubscribe) {
      if (name === '*') {
        state.wildcard = false;
        continue;
      }
      state.names.delete(name);
      state.mustAnswer.delete(name);
      // Still covered by the wildcard: the client dropped it, so it must get it again.
      if (state.wildcard) {
        state.held.delete(name);
        state.mustAnswer.add(name);
      } else {
        state.held.delete(name);
      }
    }
  }

  private wanted(state: TypeState, snapshot: Snapshot, typeUrl: ResourceTypeUrl): Set<string> {
    if (!state.wildcard) return state.names;
    return new Set([...snapshot.type(typeUrl).resources.keys(), ...state.names]);
  }

  /**
   * True when the client holds the snapshot's version of everything it wants and nothing else
   * (e.g. no cluster kept for make-before-break).
   */
  private isCurrent(typeUrl: ResourceTypeUrl, state: TypeState, snapshot: Snapshot | undefined = this.snapshot): boolean {
    if (!snapshot) return false;
    const resources = snapshot.type(typeUrl).resources;
    const wanted = this.wanted(state, snapshot, typeUrl);
    for (const name of wanted) {
      const resource = resources.get(name);
      if (resource ? state.held.get(name) !== resource.version : state.held.has(name)) return false;
    }
    for (const name of state.held.keys()) if (!wanted.has(name)) return false;
    return true;
  }

  carriesRoutes(): boolean {
    return this.types.has(LISTENER_TYPE) || this.types.has(ROUTE_TYPE);
  }

  protected ownRoutesSettledAt(snapshot: Snapshot): boolean {
    for (const typeUrl of [LISTENER_TYPE, ROUTE_TYPE] as const) {
      const state = this.types.get(typeUrl);
      if (!state) continue;
      // Awaiting an answer, NACKed (the client reverted) or something still to send.
      if (state.sent.size > 0 || !this.isCurrent(typeUrl, state, snapshot)) return false;
    }
    return true;
  }

  private reportCurrent(typeUrl: ResourceTypeUrl, state: TypeState, version: string): void {
    if (state.reportedVersion === version) return;
    state.reportedVersion = version;
    this.deps.callbacks.acked(this.deps.streamId, typeUrl, version);
  }

  protected flushTypes(snapshot: Snapshot): void {
    // Computed at most once per flush, and only when a cluster or endpoint removal asks.
    let settled: boolean | undefined;
    const routesSettled = (): boolean => (settled ??= this.routesSettled(snapshot));
    for (const typeUrl of PUSH_ORDER) {
      const state = this.types.get(typeUrl);
      if (!state || this.heldBack(typeUrl, snapshot)) continue;
      const typeSnapshot = snapshot.type(typeUrl);
      const resources = typeSnapshot.resources;
      const wanted = this.wanted(state, snapshot, typeUrl);
      const mayRetain = typeUrl === CLUSTER_TYPE || typeUrl === ENDPOINT_TYPE;
      const toSend: EncodedResource[] = [];
      const toRemove: string[] = [];
      const retained: { name: string; version: string }[] = [];
      // A held cluster (or its endpoints) the snapshot dropped stays until routes stop naming it.
      const remove = (name: string, held: string | undefined): void => {
        if (held !== undefined && mayRetain && !resources.has(name) && !routesSettled()) retained.push({ name, version: held });
        else toRemove.push(name);
      };
      for (const name of [...wanted].sort()) {
        const resource = resources.get(name);
        const held = state.held.get(name);
        if (resource) {
          const changed = held !== resource.version && state.rejected.get(name) !== resource.version;
          if (changed || state.mustAnswer.has(name)) toSend.push(resource);
        } else if (held !== undefined || state.mustAnswer.has(name)) {
          remove(name, held);
        }
      }
      // Names the client holds that it no longer wants or that are gone (e.g. after a reconnect).
      for (const [name, held] of state.held) {
        if (!wanted.has(name)) remove(name, held);
      }
      // Withheld: the names still owed an answer wait for a snapshot that may be sent.
      if ((toSend.length > 0 || toRemove.length > 0 || state.unanswered) && this.withholds(typeUrl)) continue;
      state.mustAnswer.clear();
      if (retained.length > 0) this.setRetaining(true);
      if (toSend.length === 0 && toRemove.length === 0 && !state.unanswered) {
        if (state.sent.size === 0 && this.isCurrent(typeUrl, state)) this.reportCurrent(typeUrl, state, typeSnapshot.version);
        continue;
      }
      const version = retained.length > 0 ? retainingVersion(typeSnapshot.version, retained) : typeSnapshot.version;
      if (!this.send(typeUrl, state, version, toSend, toRemove)) return;
    }
  }

  private send(typeUrl: ResourceTypeUrl, state: TypeState, typeVersion: string, resources: EncodedResource[], removed: string[]): boolean {
    const nonce = this.nextNonce();
    const sequence = this.nextSequence();
    state.unanswered = false;
    const previous = new Map<string, string | undefined>();
    const carried = new Map<string, string | undefined>();
    for (const resource of resources) {
      previous.set(resource.name, state.held.get(resource.name));
      carried.set(resource.name, resource.version);
      state.held.set(resource.name, resource.version);
    }
    for (const name of removed) {
      previous.set(name, state.held.get(name));
      carried.set(name, undefined);
      state.held.delete(name);
    }
    state.sent.set(nonce, { sequence, typeVersion, previous, carried });
    if (state.sent.size > MAX_OUTSTANDING) state.sent.delete(state.sent.keys().next().value as string);
    if (typeUrl === CLUSTER_TYPE) {
      const endpoints = this.types.get(ENDPOINT_TYPE);
      for (const name of this.clustersSent(nonce, sequence, resources, false, removed)) {
        if (!endpoints) {
          if (this.deps.fixedType === undefined) this.endpointsOwed.add(name);
        }
        else if (endpoints.wildcard || endpoints.names.has(name)) endpoints.mustAnswer.add(name);
      }
    }
    const writable = this.writeResponse({ body: this.bodies.deltaBody(typeUrl, typeVersion, resources, removed), nonce });
    if (this.debugLogged) {
      this.deps.logger.debug(
        { node: this.node?.id, type: SHORT_TYPE_NAMES[typeUrl], version: typeVersion, nonce, resources: resources.length, removed: removed.length },
        'delta response sent',
      );
    }
    this.deps.callbacks.responseSent(this.deps.streamId, typeUrl, typeVersion, nonce, resources.length);
    return writable;
  }
}
