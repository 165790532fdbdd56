// Per connected node: its streams (ADS, or one per type), its Envoy version, and per resource type
// what was sent, what it ACKed and its last NACK. Written only by the xDS stream callbacks; everyone
// else reads it through `list()` and `proxy()`: immutable views rebuilt only for the nodes that
// changed, and in them only for the types that changed.

import type { StreamStatus, TypeStatus } from '../api/fleet.js';
import type { StreamCallbacks, StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import type { ResourceTypeUrl } from '../xds/type-urls.js';

/** One connected node, all of its streams merged: a view, never changed once handed out. */
export interface ProxyStatus {
  readonly node: { readonly id: string; readonly cluster: string };
  readonly userAgent: string;
  readonly clientVersion: string;
  readonly envoyVersion: string;
  readonly streams: readonly Readonly<StreamStatus>[];
  readonly types: Readonly<Partial<Record<ResourceTypeUrl, Readonly<TypeStatus>>>>;
}

/** What a node has ACKed, per type it subscribed to: the part of its status its applied revision depends on. */
export interface NodeAcks {
  readonly node: { readonly id: string };
  readonly types: Readonly<Partial<Record<ResourceTypeUrl, { readonly ackedVersion?: string }>>>;
}

/** A type's status as kept: times as epoch milliseconds, written as text only into views. */
interface TypeRecord {
  sentVersion?: string;
  sentAt?: number;
  ackedVersion?: string;
  ackedAt?: number;
  lastNack?: { version: string; message: string; at: number };
  /**
   * The record as views show it, until the record changes: a node's view is rebuilt when any of
   * its types changes (an ACK of routes, say), and its other types keep their status objects.
   */
  view?: Readonly<TypeStatus> | undefined;
}

interface StreamEntry {
  stream: StreamStatus;
  node: NodeInfo;
  types: Partial<Record<ResourceTypeUrl, TypeRecord>>;
}

/** Times as text, remembered per millisecond: the ACKs of one push share a handful of them. */
const timeTexts = new Map<number, string>();
const MAX_TIME_TEXTS = 1024;

function timeText(ms: number): string {
  let text = timeTexts.get(ms);
  if (text === undefined) {
    if (timeTexts.size >= MAX_TIME_TEXTS) timeTexts.clear();
    text = new Date(ms).toISOString();
    timeTexts.set(ms, text);
  }
  return text;
}

function typeStatus(record: TypeRecord): Readonly<TypeStatus> {
  if (record.view) return record.view;
  const status: TypeStatus = {};
  if (record.sentVersion !== undefined) status.sentVersion = record.sentVersion;
  if (record.sentAt !== undefined) status.sentAt = timeText(record.sentAt);
  if (record.ackedVersion !== undefined) status.ackedVersion = record.ackedVersion;
  if (record.ackedAt !== undefined) status.ackedAt = timeText(record.ackedAt);
  if (record.lastNack) status.lastNack = { ...record.lastNack, at: timeText(record.lastNack.at) };
  record.view = status;
  return status;
}

export interface FleetCounters {
  nacks: number;
  responses: number;
}

export class FleetStatus implements StreamCallbacks {
  private readonly streams = new Map<number, StreamEntry>();
  /** Stream ids per node id, ascending (ids only grow, so in opening order). */
  private readonly nodeStreams = new Map<string, number[]>();
  /** Each node's view as last built; absent for a node changed since. */
  private readonly views = new Map<string, ProxyStatus>();
  private listed: readonly ProxyStatus[] | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly nodeListeners = new Set<(nodeId: string) => void>();
  private notifyScheduled = false;
  readonly counters: FleetCounters = { nacks: 0, responses: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  streamOpened(streamId: number, node: NodeInfo, transport: StreamTransport): void {
    this.streams.set(streamId, {
      stream: { id: streamId, kind: transport.kind, aggregated: transport.aggregated, connectedAt: new Date(this.now()).toISOString() },
      node,
      types: {},
    });
    const ids = this.nodeStreams.get(node.id);
    if (ids) ids.push(streamId);
    else this.nodeStreams.set(node.id, [streamId]);
    this.changed(node.id);
  }

  /** A type the stream asked for counts as subscribed at once, with nothing ACKed yet. */
  subscribed(streamId: number, typeUrl: ResourceTypeUrl): void {
    const entry = this.streams.get(streamId);
    if (entry && entry.types[typeUrl] === undefined) {
      entry.types[typeUrl] = {};
      this.changed(entry.node.id);
    }
  }

  responseSent(streamId: number, typeUrl: ResourceTypeUrl, version: string): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    const status = (entry.types[typeUrl] ??= {});
    status.sentVersion = version;
    status.sentAt = this.now();
    status.view = undefined;
    this.counters.responses++;
    this.stale(entry.node.id);
  }

  acked(streamId: number, typeUrl: ResourceTypeUrl, version: string): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    const status = (entry.types[typeUrl] ??= {});
    status.ackedVersion = version;
    status.ackedAt = this.now();
    status.view = undefined;
    this.changed(entry.node.id);
  }

  nacked(streamId: number, typeUrl: ResourceTypeUrl, rejectedVersion: string, message: string): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    const status = (entry.types[typeUrl] ??= {});
    status.lastNack = { version: rejectedVersion, message, at: this.now() };
    status.view = undefined;
    this.counters.nacks++;
    this.changed(entry.node.id);
  }

  streamClosed(streamId: number): void {
    const entry = this.streams.get(streamId);
    if (!entry) return;
    this.streams.delete(streamId);
    const ids = this.nodeStreams.get(entry.node.id)!.filter((id) => id !== streamId);
    if (ids.length === 0) this.nodeStreams.delete(entry.node.id);
    else this.nodeStreams.set(entry.node.id, ids);
    this.changed(entry.node.id);
  }

  /**
   * Connected nodes by id, in the order of their oldest stream; a type's status comes from the
   * node's newest stream that carries it. The same array until something changes.
   */
  list(): readonly ProxyStatus[] {
    if (this.listed) return this.listed;
    const proxies: ProxyStatus[] = [];
    for (const nodeId of this.nodeStreams.keys()) proxies.push(this.proxy(nodeId)!);
    proxies.sort((a, b) => a.streams[0]!.id - b.streams[0]!.id);
    this.listed = proxies;
    return proxies;
  }

  /** One connected node's view; undefined when it has no stream. */
  proxy(nodeId: string): ProxyStatus | undefined {
    const cached = this.views.get(nodeId);
    if (cached) return cached;
    const ids = this.nodeStreams.get(nodeId);
    if (!ids) return undefined;
    const entries = ids.map((id) => this.streams.get(id)!);
    const { node } = entries[0]!;
    const types: Partial<Record<ResourceTypeUrl, Readonly<TypeStatus>>> = {};
    for (const entry of entries) {
      for (const [typeUrl, record] of Object.entries(entry.types) as [ResourceTypeUrl, TypeRecord][]) types[typeUrl] = typeStatus(record);
    }
    const view: ProxyStatus = {
      node: { id: node.id, cluster: node.cluster },
      userAgent: node.userAgentName,
      clientVersion: node.clientVersion,
      envoyVersion: node.envoyVersion,
      streams: entries.map((entry) => ({ ...entry.stream })),
      types,
    };
    this.views.set(nodeId, view);
    return view;
  }

  /** The ids of the connected nodes. */
  nodeIds(): IterableIterator<string> {
    return this.nodeStreams.keys();
  }

  /**
   * What one connected node has ACKed (its newest stream per type), without building its view:
   * asked for every node whose ACKs changed, after every burst of ACKs. Undefined when it has no stream.
   */
  acks(nodeId: string): NodeAcks | undefined {
    const ids = this.nodeStreams.get(nodeId);
    if (!ids) return undefined;
    const types: Partial<Record<ResourceTypeUrl, { ackedVersion?: string }>> = {};
    for (const id of ids) {
      for (const [typeUrl, record] of Object.entries(this.streams.get(id)!.types) as [ResourceTypeUrl, TypeRecord][]) {
        types[typeUrl] = record.ackedVersion === undefined ? {} : { ackedVersion: record.ackedVersion };
      }
    }
    return { node: { id: nodeId }, types };
  }

  streamCount(): number {
    return this.streams.size;
  }

  /** Called soon after ACKs, NACKs, connects and disconnects (once per event-loop turn; e.g. to wake revision waiters). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called at once, with the node's id, whenever a node's streams, subscriptions, ACKs or NACKs
   * change: for indexes that keep up with the fleet by redoing only what changed.
   */
  onNodeChange(listener: (nodeId: string) => void): () => void {
    this.nodeListeners.add(listener);
    return () => this.nodeListeners.delete(listener);
  }

  /** The node's view is out of date (what it was sent changed, which nobody waits on). */
  private stale(nodeId: string): void {
    this.views.delete(nodeId);
    this.listed = undefined;
  }

  /**
   * Listeners run once per event-loop turn, however many ACKs arrived in it: a push to N proxies
   * brings N ACKs, and each listener (revision waiters, convergence timing) looks at the whole
   * fleet, so running them per ACK would cost N² work per change.
   */
  private changed(nodeId: string): void {
    this.stale(nodeId);
    for (const listener of this.nodeListeners) listener(nodeId);
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const listener of this.listeners) listener();
    });
  }
}
