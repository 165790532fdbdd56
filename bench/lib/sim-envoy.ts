// A simulated Envoy: one ADS stream (state-of-the-world or delta) on its own gRPC channel (its own
// TCP connection), subscribing as Envoy does — clusters by wildcard, endpoints by the names of the
// EDS clusters it received, listeners by wildcard, routes by the route configuration names of the
// listeners' connection managers — and ACKing every response at once. It decodes the clusters and
// listeners it receives to learn those names (cached per process: every client of a process gets
// the same bytes). It never NACKs and never retries: a stream error is counted, not hidden.
// Reconnecting sends what it holds, as Envoy does (SotW versions, delta initial_resource_versions).

import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { LEN } from '../../src/protobuf-wire.js';
import { decodeMessage, messageType } from '../../src/xds/codec.js';
import {
  decodeDeltaResponse,
  decodeDiscoveryResponse,
  encodeDeltaRequest,
  encodeDiscoveryRequest,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type RawNode,
} from '../../src/xds/server/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { now } from './util.js';

export type XdsMode = 'sotw' | 'delta';

const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService';
const TYPES = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE] as const;
type TypeUrl = (typeof TYPES)[number];

/** One channel per client: its own subchannel, so its own TCP connection, like a separate Envoy. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

/** Extension categories an Envoy 1.40 build lists in its node, with a share of its ~516 extensions each. */
const EXTENSION_CATEGORIES = [
  'envoy.filters.http',
  'envoy.filters.network',
  'envoy.filters.listener',
  'envoy.transport_sockets.upstream',
  'envoy.transport_sockets.downstream',
  'envoy.clusters',
  'envoy.load_balancing_policies',
  'envoy.access_loggers',
  'envoy.tracers',
  'envoy.stats_sinks',
  'envoy.matching.input_matchers',
  'envoy.http.stateful_session',
];

/**
 * The extensions list of the node a real Envoy sends: 516 of them in 1.40, ~61 KB on the wire with
 * the rest of the node. Encoded once per process: a client's node is its own fields followed by
 * these bytes (protobuf merges a message's concatenated encodings).
 */
const nodeType = messageType('envoy.config.core.v3.Node');
const ENVOY_EXTENSION_BYTES = Buffer.from(
  nodeType
    .encode(
      nodeType.fromObject({
        extensions: Array.from({ length: 516 }, (_, i) => {
          const category = EXTENSION_CATEGORIES[i % EXTENSION_CATEGORIES.length]!;
          return { name: `${category}.ext_${i}`, category, type_urls: [`type.googleapis.com/${category}.ext_${i}.v3.Config`] };
        }),
      }),
    )
    .finish(),
);

/** A client's node as a real Envoy sends it: its own fields, then the extensions. */
function envoyNodeBytes(id: string, cluster: string): Buffer {
  return Buffer.concat([nodeType.encode(nodeType.fromObject(simNode(id, cluster))).finish(), ENVOY_EXTENSION_BYTES]);
}

/** The node a simulated Envoy presents; its node cluster is `bench` unless told otherwise. */
export function simNode(id: string, cluster = 'bench'): RawNode {
  return { id, cluster, user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 0 } } };
}

/** A request and, for a stream's first, the node as a real Envoy sends it (extensions included), already encoded. */
type WithNode<Request> = Omit<Request, 'node'> & { nodeBytes?: Buffer };

/** The node field: DiscoveryRequest's field 2, DeltaDiscoveryRequest's field 1 (length-delimited). */
function serializeWithNode<Request>(encode: (request: Request) => Buffer, nodeField: number): (request: WithNode<Request>) => Buffer {
  return ({ nodeBytes, ...rest }) => {
    const body = encode(rest as Request);
    if (!nodeBytes) return body;
    return Buffer.concat([body, protobuf.Writer.create().uint32((nodeField << 3) | LEN).bytes(nodeBytes).finish()]);
  };
}

const serializeSotwRequest = serializeWithNode(encodeDiscoveryRequest, 2);
const serializeDeltaRequest = serializeWithNode(encodeDeltaRequest, 1);

/** What a resource's bytes tell a client to subscribe to next; cached, since every client gets the same bytes. */
export class NameCache {
  private readonly byKey = new Map<string, string[]>();

  /** EDS name of a cluster (its eds_cluster_config.service_name, else its name), or none when not EDS. */
  edsNames(key: string, resources: readonly Uint8Array[]): string[] {
    return this.cached(`c\0${key}`, () =>
      resources.flatMap((bytes) => {
        const cluster = decodeMessage('envoy.config.cluster.v3.Cluster', bytes) as {
          name?: string;
          type?: string;
          eds_cluster_config?: { service_name?: string };
        };
        if (cluster.type !== 'EDS') return [];
        return [cluster.eds_cluster_config?.service_name || cluster.name || ''];
      }),
    );
  }

  /** Route configuration names the listeners' HTTP connection managers take from RDS. */
  routeNames(key: string, resources: readonly Uint8Array[]): string[] {
    return this.cached(`l\0${key}`, () => {
      const names = new Set<string>();
      const visit = (value: unknown): void => {
        if (Array.isArray(value)) {
          value.forEach(visit);
          return;
        }
        if (value === null || typeof value !== 'object') return;
        const object = value as Record<string, unknown>;
        const rds = object['rds'] as { route_config_name?: string } | undefined;
        if (rds && typeof rds.route_config_name === 'string') names.add(rds.route_config_name);
        for (const item of Object.values(object)) visit(item);
      };
      for (const bytes of resources) visit(decodeMessage('envoy.config.listener.v3.Listener', bytes));
      return [...names];
    });
  }

  private cached(key: string, compute: () => string[]): string[] {
    let names = this.byKey.get(key);
    if (!names) {
      names = [...new Set(compute())].sort();
      this.byKey.set(key, names);
    }
    return names;
  }
}

interface TypeState {
  /** A request for this type was sent on some stream (so a reconnect asks again). */
  requested: boolean;
  /** At least one response of this type was received and ACKed. */
  answered: boolean;
  /** Subscribed names (endpoints and routes; clusters and listeners are wildcard). */
  names: string[];
  /** SotW: last ACKed version_info; delta: last system_version_info. */
  version: string;
  /** SotW: nonce of the last response (every request carries it). */
  nonce: string;
  /** Delta: name → version of what the client holds. */
  held: Map<string, string>;
}

export interface SimCounters {
  responses: number;
  acks: number;
  errors: number;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

export class SimEnvoy {
  readonly counters: SimCounters = { responses: 0, acks: 0, errors: 0 };
  lastError: string | undefined;
  /** Monotonic ms of the first response and of the last ACK since mark(); -1 when none. */
  firstResponseAt = -1;
  lastAckAt = -1;
  private routesAtMark = '';
  private readonly types = new Map<TypeUrl, TypeState>();
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<any, any> | undefined;
  /** The node this client sends on each stream's first request (encoded on the first connect). */
  private nodeBytes: Buffer | undefined;
  /** The current stream's session; events of a dropped stream are ignored (not counted as errors). */
  private session = { closed: false };
  private syncedWaiter: (() => void) | undefined;

  constructor(
    readonly id: string,
    private readonly address: string,
    readonly mode: XdsMode,
    private readonly names: NameCache,
    /** Plaintext unless given (e.g. TLS with a client certificate). */
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    readonly nodeCluster = 'bench',
  ) {
    for (const type of TYPES) this.types.set(type, { requested: false, answered: false, names: [], version: '', nonce: '', held: new Map() });
  }

  /** Has ACKed a response of every type (clusters, endpoints, listeners, routes). */
  synced(): boolean {
    return TYPES.every((type) => this.types.get(type)!.answered);
  }

  routesVersion(): string {
    return this.types.get(ROUTE_TYPE)!.version;
  }

  routesChanged(): boolean {
    return this.routesVersion() !== this.routesAtMark;
  }

  mark(): void {
    this.firstResponseAt = -1;
    this.lastAckAt = -1;
    this.routesAtMark = this.routesVersion();
  }

  connected(): boolean {
    return this.call !== undefined;
  }

  /**
   * Opens the stream and sends the first requests: a fresh client asks for clusters (listeners
   * follow its first cluster ACK, endpoints and routes follow the names it learns); a client that
   * was connected before asks again for everything it had, with what it holds. Resolves at once,
   * or once synced when `waitSyncedMs` is given (rejecting after that long).
   */
  connect(waitSyncedMs?: number): Promise<void> {
    const session = { closed: false };
    this.session = session;
    this.client = new grpc.Client(this.address, this.credentials, CHANNEL_OPTIONS);
    const call =
      this.mode === 'sotw'
        ? this.client.makeBidiStreamRequest(`${ADS}/StreamAggregatedResources`, serializeSotwRequest, decodeDiscoveryResponse)
        : this.client.makeBidiStreamRequest(`${ADS}/DeltaAggregatedResources`, serializeDeltaRequest, decodeDeltaResponse);
    this.call = call;
    call.on('data', (response: DiscoveryResponse | DeltaDiscoveryResponse) => {
      if (session.closed) return;
      try {
        if (this.mode === 'sotw') this.onSotw(response as DiscoveryResponse);
        else this.onDelta(response as DeltaDiscoveryResponse);
      } catch (error) {
        this.fail(`handling a response: ${String(error)}`);
      }
    });
    call.on('error', (error: grpc.ServiceError) => {
      if (!session.closed) this.fail(`stream error ${error.code}: ${error.details}`);
    });
    call.on('end', () => {
      if (!session.closed) this.fail('stream ended by the server');
    });

    const again = this.types.get(CLUSTER_TYPE)!.requested;
    let first = true;
    const order: readonly TypeUrl[] = again ? TYPES : [CLUSTER_TYPE];
    for (const type of order) {
      const state = this.types.get(type)!;
      if (again && !state.requested) continue;
      this.request(type, state, first);
      first = false;
    }
    if (waitSyncedMs === undefined || this.synced()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.syncedWaiter = undefined;
        reject(new Error(`${this.id} not synced within ${waitSyncedMs} ms${this.lastError ? `: ${this.lastError}` : ''}`));
      }, waitSyncedMs);
      this.syncedWaiter = () => {
        clearTimeout(timer);
        this.syncedWaiter = undefined;
        resolve();
      };
    });
  }

  /** Drops the stream and the channel (the TCP connection closes); keeps what it holds. */
  drop(): void {
    this.session.closed = true;
    this.call?.cancel();
    this.client?.close();
    this.call = undefined;
    this.client = undefined;
  }

  private fail(message: string): void {
    this.counters.errors++;
    this.lastError = message;
  }

  /** The first request of a type on this stream (a reconnect repeats what the client holds). */
  private request(type: TypeUrl, state: TypeState, withNode: boolean): void {
    state.requested = true;
    const node = withNode ? { nodeBytes: (this.nodeBytes ??= envoyNodeBytes(this.id, this.nodeCluster)) } : {};
    if (this.mode === 'sotw') {
      const request: WithNode<DiscoveryRequest> = { ...node, type_url: type, version_info: state.version, resource_names: state.names };
      this.call?.write(request);
    } else {
      const request: WithNode<DeltaDiscoveryRequest> = {
        ...node,
        type_url: type,
        resource_names_subscribe: state.names,
        initial_resource_versions: Object.fromEntries(state.held),
      };
      this.call?.write(request);
    }
  }

  private stampResponse(): void {
    this.counters.responses++;
    if (this.firstResponseAt < 0) this.firstResponseAt = now();
  }

  private stampAck(state: TypeState): void {
    this.counters.acks++;
    this.lastAckAt = now();
    state.answered = true;
    if (this.syncedWaiter && this.synced()) this.syncedWaiter();
  }

  // ---- state of the world ----

  private onSotw(response: DiscoveryResponse): void {
    this.stampResponse();
    const type = response.type_url as TypeUrl;
    const state = this.types.get(type);
    if (!state) return;
    state.version = response.version_info;
    state.nonce = response.nonce;
    const bytes = (): Uint8Array[] => response.resources.map((r) => r.value);
    // Envoy pauses EDS (RDS) while it applies CDS (LDS): the ACK goes first, then the new subscription.
    this.call?.write({ type_url: type, version_info: state.version, response_nonce: state.nonce, resource_names: state.names });
    this.stampAck(state);
    if (type === CLUSTER_TYPE) {
      this.resubscribeSotw(ENDPOINT_TYPE, this.names.edsNames(response.version_info, bytes()));
      const listeners = this.types.get(LISTENER_TYPE)!;
      if (!listeners.requested) this.request(LISTENER_TYPE, listeners, false);
    } else if (type === LISTENER_TYPE) {
      this.resubscribeSotw(ROUTE_TYPE, this.names.routeNames(response.version_info, bytes()));
    }
  }

  private resubscribeSotw(type: TypeUrl, names: string[]): void {
    const state = this.types.get(type)!;
    if (state.requested && sameNames(state.names, names)) return;
    state.names = names;
    if (!state.requested) {
      this.request(type, state, false);
      return;
    }
    this.call?.write({ type_url: type, version_info: state.version, response_nonce: state.nonce, resource_names: names });
  }

  // ---- delta ----

  private onDelta(response: DeltaDiscoveryResponse): void {
    this.stampResponse();
    const type = response.type_url as TypeUrl;
    const state = this.types.get(type);
    if (!state) return;
    for (const resource of response.resources) state.held.set(resource.name, resource.version);
    for (const name of response.removed_resources) state.held.delete(name);
    state.version = response.system_version_info;
    this.call?.write({ type_url: type, response_nonce: response.nonce });
    this.stampAck(state);
    if (type === CLUSTER_TYPE || type === LISTENER_TYPE) {
      // What the client now holds decides what it wants next; resources arrive one by one in delta.
      const byName = new Map(response.resources.map((r) => [r.name, r.resource.value] as const));
      const wanted: string[] = [];
      for (const [name, version] of state.held) {
        const key = `${name}\0${version}`;
        const value = byName.get(name);
        const list = type === CLUSTER_TYPE ? this.names.edsNames(key, value ? [value] : []) : this.names.routeNames(key, value ? [value] : []);
        wanted.push(...list);
      }
      this.resubscribeDelta(type === CLUSTER_TYPE ? ENDPOINT_TYPE : ROUTE_TYPE, [...new Set(wanted)].sort());
      if (type === CLUSTER_TYPE) {
        const listeners = this.types.get(LISTENER_TYPE)!;
        if (!listeners.requested) this.request(LISTENER_TYPE, listeners, false);
      }
    }
  }

  private resubscribeDelta(type: TypeUrl, names: string[]): void {
    const state = this.types.get(type)!;
    if (state.requested && sameNames(state.names, names)) return;
    const before = new Set(state.names);
    const after = new Set(names);
    state.names = names;
    if (!state.requested) {
      this.request(type, state, false);
      return;
    }
    const subscribe = names.filter((name) => !before.has(name));
    const unsubscribe = [...before].filter((name) => !after.has(name));
    for (const name of unsubscribe) state.held.delete(name);
    this.call?.write({ type_url: type, resource_names_subscribe: subscribe, resource_names_unsubscribe: unsubscribe });
  }
}
