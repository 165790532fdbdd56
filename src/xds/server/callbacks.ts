// What the stream handlers report about each stream: opened (with its node), a type first asked
// for, a response sent, an ACK, a NACK, closed. Implemented by the fleet status and by logging/metrics; the stream
// handlers depend only on this interface.

import type { ResourceTypeUrl } from '../type-urls.js';
import type { NodeInfo } from './messages.js';

export type StreamKind = 'sotw' | 'delta';

/** How a stream reaches sluice: which protocol, and ADS or one of the per-type services. */
export interface StreamTransport {
  kind: StreamKind;
  aggregated: boolean;
}

export interface StreamCallbacks {
  streamOpened(streamId: number, node: NodeInfo, transport: StreamTransport): void;
  /** The stream asked for `typeUrl` for the first time: until it ACKs a version, it has applied none. */
  subscribed(streamId: number, typeUrl: ResourceTypeUrl): void;
  responseSent(streamId: number, typeUrl: ResourceTypeUrl, version: string, nonce: string, resourceCount: number): void;
  acked(streamId: number, typeUrl: ResourceTypeUrl, version: string): void;
  nacked(streamId: number, typeUrl: ResourceTypeUrl, rejectedVersion: string, message: string): void;
  streamClosed(streamId: number): void;
}
