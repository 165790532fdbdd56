// Per connected node: its streams (an ADS stream, or one stream per type for the per-type
// services), its Envoy version, and per resource type what was sent, what it ACKed and its last
// NACK. Written only by the xDS stream callbacks; everyone else reads it through `list()`.

import type { StreamStatus, TypeStatus } from '../api/fleet.js';
import type { StreamCallbacks, StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import type { ResourceTypeUrl } from '../xds/type-urls.js';

/** One connected node, all of its streams merged. */
export interface ProxyStatus {
  node: { id: string; cluster: string };
  userAgent: string;
  clientVersion: string;
  envoyVersion: string;
  streams: StreamStatus[];
  types: Partial<Record<ResourceTypeUrl, TypeStatus>>;
}

interface StreamEntry {
  stream: StreamStatus;
  node: NodeInfo;
  types: Partial<Record<ResourceTypeUrl, TypeStatus>>;
}

export interface FleetCounters {
  nacks: number;
  responses: number;
}

export class FleetStatus implements StreamCallbacks {
  private readonly streams = new Map<number, StreamEntry>();
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;
  readonly counters: FleetCounters = { nacks: 0, responses: 0 };

  constructor(private readonly now: () => Date = () => new Date()) {}

  streamOpened(streamId: number, node: NodeInfo, transport: StreamTransport): void {
    this.streams.set(streamId, {
      stream: { id: streamId, kind: transport.kind, aggregated: transport.aggregated, connectedAt: this.now().toISOString() },
      node,
      types: {},
    });
    this.changed();
  }

  /** A type the stream asked for counts as subscribed at once, with nothing ACKed yet. */
  subscribed(streamId: number, typeUrl: ResourceTypeUrl): void {
    if (this.typeStatus(streamId, typeUrl)) this.changed();
  }

  responseSent(streamId: number, typeUrl: ResourceTypeUrl, version: string): void {
    const status = this.typeStatus(streamId, typeUrl);
    if (!status) return;
    status.sentVersion = version;
    status.sentAt = this.now().toISOString();
    this.counters.responses++;
  }

  acked(streamId: number, typeUrl: ResourceTypeUrl, version: string): void {
    const status = this.typeStatus(streamId, typeUrl);
    if (!status) return;
    status.ackedVersion = version;
    status.ackedAt = this.now().toISOString();
    this.changed();
  }

  nacked(streamId: number, typeUrl: ResourceTypeUrl, rejectedVersion: string, message: string): void {
    const status = this.typeStatus(streamId, typeUrl);
    if (!status) return;
    status.lastNack = { version: rejectedVersion, message, at: this.now().toISOString() };
    this.counters.nacks++;
    this.changed();
  }

  streamClosed(streamId: number): void {
    if (this.streams.delete(streamId)) this.changed();
  }

  /** Connected nodes by id; a type's status comes from the node's newest stream that carries it. */
  list(): ProxyStatus[] {
    const byNode = new Map<string, ProxyStatus>();
    for (const entry of [...this.streams.values()].sort((a, b) => a.stream.id - b.stream.id)) {
      let proxy = byNode.get(entry.node.id);
      if (!proxy) {
        proxy = {
          node: { id: entry.node.id, cluster: entry.node.cluster },
          userAgent: entry.node.userAgentName,
          clientVersion: entry.node.clientVersion,
          envoyVersion: entry.node.envoyVersion,
          streams: [],
          types: {},
        };
        byNode.set(entry.node.id, proxy);
      }
      proxy.streams.push({ ...entry.stream });
      for (const [typeUrl, status] of Object.entries(entry.types) as [ResourceTypeUrl, TypeStatus][]) {
        proxy.types[typeUrl] = { ...status };
      }
    }
    return [...byNode.values()];
  }

  streamCount(): number {
    return this.streams.size;
  }

  /** Called soon after ACKs, NACKs, connects and disconnects (once per event-loop turn; e.g. to wake revision waiters). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private typeStatus(streamId: number, typeUrl: ResourceTypeUrl): TypeStatus | undefined {
    const entry = this.streams.get(streamId);
    if (!entry) return undefined;
    return (entry.types[typeUrl] ??= {});
  }

  /**
   * Listeners run once per event-loop turn, however many ACKs arrived in it: a push to N proxies
   * brings N ACKs, and each listener (revision waiters, convergence timing) looks at the whole
   * fleet, so running them per ACK would cost N² work per change.
   */
  private changed(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const listener of this.listeners) listener();
    });
  }
}
