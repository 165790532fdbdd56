// Per connected stream: the node behind it, its Envoy version, and per resource type what was
// sent, what it ACKed and its last NACK. Written only by the xDS stream callbacks; everyone
// else reads it through `list()` and `get()`.

import type { StreamCallbacks, StreamKind } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import type { ResourceTypeUrl } from '../xds/type-urls.js';

export interface NackRecord {
  version: string;
  message: string;
  at: string;
}

export interface TypeStatus {
  sentVersion?: string;
  sentAt?: string;
  ackedVersion?: string;
  ackedAt?: string;
  lastNack?: NackRecord;
}

export interface ProxyStatus {
  streamId: number;
  node: { id: string; cluster: string };
  userAgent: string;
  envoyVersion: string;
  kind: StreamKind;
  connectedAt: string;
  types: Partial<Record<ResourceTypeUrl, TypeStatus>>;
}

export interface FleetCounters {
  nacks: number;
  responses: number;
}

export class FleetStatus implements StreamCallbacks {
  private readonly proxies = new Map<number, ProxyStatus>();
  private readonly listeners = new Set<() => void>();
  readonly counters: FleetCounters = { nacks: 0, responses: 0 };

  constructor(private readonly now: () => Date = () => new Date()) {}

  streamOpened(streamId: number, node: NodeInfo, kind: StreamKind): void {
    this.proxies.set(streamId, {
      streamId,
      node: { id: node.id, cluster: node.cluster },
      userAgent: node.userAgentName,
      envoyVersion: node.envoyVersion,
      kind,
      connectedAt: this.now().toISOString(),
      types: {},
    });
    this.changed();
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
    if (this.proxies.delete(streamId)) this.changed();
  }

  list(): ProxyStatus[] {
    return [...this.proxies.values()].sort((a, b) => a.streamId - b.streamId);
  }

  /** Called after every ACK, NACK, connect and disconnect (e.g. to wake revision waiters). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private typeStatus(streamId: number, typeUrl: ResourceTypeUrl): TypeStatus | undefined {
    const proxy = this.proxies.get(streamId);
    if (!proxy) return undefined;
    return (proxy.types[typeUrl] ??= {});
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
