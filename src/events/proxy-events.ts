// Proxy events for the journal, from the xDS stream callbacks: a node connecting (its first
// stream) and leaving (its last), and its ACKs and NACKs per resource type. ACKs are recorded only
// while the journal is watched, the newest per stream and type in an event-loop turn; everything
// is appended once per turn. Reads the callbacks only; never changes the fleet or a stream.

import type { StreamCallbacks, StreamTransport } from '../xds/server/callbacks.js';
import type { NodeInfo } from '../xds/server/messages.js';
import { SHORT_TYPE_NAMES, type ResourceTypeUrl } from '../xds/type-urls.js';
import type { EventNode, NackEvent, ProxyEvent } from '../api/events.js';
import type { EventJournal } from './journal.js';

/** What a proxy rejects now, per resource type, with the services and listeners that changed in the rejected version. */
export interface SuspectedRejection {
  type: string;
  version: string;
  services: readonly string[];
  listeners: readonly string[];
}

export interface ProxyEventsOptions {
  journal: Pick<EventJournal, 'append' | 'watched'>;
  /** Per node id, what it rejects now; asked once per turn that brought NACKs. */
  rejections?: () => ReadonlyMap<string, readonly SuspectedRejection[]>;
  now?: () => Date;
}

interface OpenStream {
  node: NodeInfo;
  transport: StreamTransport;
}

/** An event waiting for the end of the turn; it is stamped then. */
type PendingEvent = ProxyEvent extends infer E ? (E extends ProxyEvent ? Omit<E, 'at'> : never) : never;

function nodeFields(node: NodeInfo): EventNode {
  return {
    node: node.id,
    cluster: node.cluster,
    envoyVersion: node.envoyVersion,
    ...(node.envoyVersion === '' ? { userAgent: node.userAgentName, clientVersion: node.clientVersion } : {}),
  };
}

export class ProxyEvents implements StreamCallbacks {
  private readonly streams = new Map<number, OpenStream>();
  private readonly streamsPerNode = new Map<string, number>();
  private pending: PendingEvent[] = [];
  /** Where a stream's ACK of a type sits in `pending`, so a newer one in the same turn replaces it. */
  private readonly ackSlots = new Map<string, number>();
  private nacksPending = false;
  private readonly now: () => Date;

  constructor(private readonly options: ProxyEventsOptions) {
    this.now = options.now ?? (() => new Date());
  }

  streamOpened(streamId: number, node: NodeInfo, transport: StreamTransport): void {
    this.streams.set(streamId, { node, transport });
    const count = (this.streamsPerNode.get(node.id) ?? 0) + 1;
    this.streamsPerNode.set(node.id, count);
    if (count === 1) {
      this.record({ type: 'proxy-connected', ...nodeFields(node), transport: transport.kind, aggregated: transport.aggregated });
    }
  }

  subscribed(): void {}

  responseSent(): void {}

  acked(streamId: number, typeUrl: ResourceTypeUrl, version: string): void {
    if (!this.options.journal.watched()) return;
    const stream = this.streams.get(streamId);
    if (!stream) return;
    const event: PendingEvent = { type: 'ack', ...nodeFields(stream.node), resourceType: SHORT_TYPE_NAMES[typeUrl], version };
    const slot = `${streamId}\n${typeUrl}`;
    const index = this.ackSlots.get(slot);
    if (index === undefined) {
      this.ackSlots.set(slot, this.pending.length);
      this.record(event);
    } else {
      this.pending[index] = event;
    }
  }

  nacked(streamId: number, typeUrl: ResourceTypeUrl, rejectedVersion: string, message: string): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.nacksPending = true;
    this.record({ type: 'nack', ...nodeFields(stream.node), resourceType: SHORT_TYPE_NAMES[typeUrl], version: rejectedVersion, message });
  }

  streamClosed(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.streams.delete(streamId);
    const count = (this.streamsPerNode.get(stream.node.id) ?? 1) - 1;
    if (count > 0) {
      this.streamsPerNode.set(stream.node.id, count);
      return;
    }
    this.streamsPerNode.delete(stream.node.id);
    this.record({ type: 'proxy-disconnected', ...nodeFields(stream.node) });
  }

  private record(event: PendingEvent): void {
    if (this.pending.length === 0) setImmediate(() => this.flush());
    this.pending.push(event);
  }

  private flush(): void {
    const events = this.pending;
    this.pending = [];
    this.ackSlots.clear();
    const rejections = this.nacksPending ? this.options.rejections?.() : undefined;
    this.nacksPending = false;
    const at = this.now().toISOString();
    for (const event of events) {
      const suspects = event.type === 'nack' ? this.suspects(rejections, event) : {};
      const stamped: ProxyEvent = { ...event, at, ...suspects };
      this.options.journal.append(stamped);
    }
  }

  /** The services and listeners that changed in the version the node rejected, when it still rejects it. */
  private suspects(rejections: ReadonlyMap<string, readonly SuspectedRejection[]> | undefined, nack: PendingEvent & { type: 'nack' }): Pick<NackEvent, 'services' | 'listeners'> {
    const rejection = rejections?.get(nack.node)?.find((r) => r.type === nack.resourceType && r.version === nack.version);
    return rejection === undefined ? {} : { services: [...rejection.services], listeners: [...rejection.listeners] };
  }
}
