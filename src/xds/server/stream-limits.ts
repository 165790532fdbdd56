// What one client may cost the xDS port: streams open in all and per peer address, the length of
// node.id and node.cluster, resource names per request, and responses written to a stream but not
// yet taken by its client. Decides, ends a refused stream with its gRPC status, counts and briefly
// logs refusals; ads-server applies it. Knows no protocol rule beyond the request fields it measures.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

export interface StreamLimitSettings {
  /** Streams open at once over every client (xDS and load reporting). */
  maxStreams: number;
  /** Streams open at once from one peer address. */
  maxStreamsPerPeer: number;
  /** The longest node.id, and the longest node.cluster, in UTF-8 bytes. */
  maxNodeFieldBytes: number;
  /** Resource names one request may carry (SotW names; delta subscribe, unsubscribe and initial versions; LRS clusters). */
  maxResourceNames: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimitSettings = {
  maxStreams: 20_000,
  maxStreamsPerPeer: 1_000,
  maxNodeFieldBytes: 512,
  maxResourceNames: 20_000,
};

/**
 * Responses written to one stream whose bytes gRPC has not handed to the connection yet: one per
 * resource type. A client that stops reading holds at most this many (gRPC alone queues 16 before
 * saying it is full); the stream then waits and, once they leave, sends the latest snapshot
 * instead of every one it missed.
 */
export const MAX_PENDING_RESPONSES = 4;

export type LimitName = 'streams' | 'streams-per-peer' | 'node-id-length' | 'node-cluster-length' | 'resource-names';

export const LIMIT_NAMES: readonly LimitName[] = ['streams', 'streams-per-peer', 'node-id-length', 'node-cluster-length', 'resource-names'];

interface Refusal {
  limit: LimitName;
  code: grpc.status;
  message: string;
}

/** The fields of any request on the xDS port (SotW, delta, LRS) that the limits measure. */
export interface MeasuredRequest {
  node?: { id?: string; cluster?: string };
  resource_names?: unknown[];
  resource_names_subscribe?: unknown[];
  resource_names_unsubscribe?: unknown[];
  initial_resource_versions?: Record<string, unknown>;
  cluster_stats?: unknown[];
}

/** A refusal is logged at most once per limit in this long; the line says how many it stands for. */
const LOG_EVERY_MS = 10_000;

/** How a stream's end reaches the call that carried it. */
type RefusableCall = Pick<grpc.ServerDuplexStream<unknown, unknown>, 'emit' | 'getPeer'>;

/** The address part of a gRPC peer ("10.0.0.7:51234", "::1:51234" → "10.0.0.7", "::1"). */
export function peerAddress(peer: string): string {
  const colon = peer.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer;
}

function names(request: MeasuredRequest): number {
  return (
    (request.resource_names?.length ?? 0) +
    (request.resource_names_subscribe?.length ?? 0) +
    (request.resource_names_unsubscribe?.length ?? 0) +
    Object.keys(request.initial_resource_versions ?? {}).length +
    (request.cluster_stats?.length ?? 0)
  );
}

export class StreamLimits {
  private open = 0;
  private readonly openByPeer = new Map<string, number>();
  private readonly counts = new Map<LimitName, number>(LIMIT_NAMES.map((limit) => [limit, 0]));
  private readonly lastLogged = new Map<LimitName, { at: number; counted: number }>();
  /** Calls already ended: what they still send is neither read nor counted again. */
  private readonly refused = new WeakSet<object>();

  constructor(
    readonly settings: StreamLimitSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Admits a new stream from the call's peer, or ends the call with RESOURCE_EXHAUSTED and returns
   * undefined. The function returned gives the stream's place back (once, however often called).
   */
  admit(call: RefusableCall): (() => void) | undefined {
    const peer = peerAddress(call.getPeer());
    const fromPeer = this.openByPeer.get(peer) ?? 0;
    const { maxStreams, maxStreamsPerPeer } = this.settings;
    if (this.open >= maxStreams) {
      this.refuse(call, { limit: 'streams', code: grpc.status.RESOURCE_EXHAUSTED, message: `sluice serves at most ${maxStreams} xDS streams at once (--xds-max-streams)` });
      return undefined;
    }
    if (fromPeer >= maxStreamsPerPeer) {
      const message = `sluice serves at most ${maxStreamsPerPeer} xDS streams at once from one address (--xds-max-streams-per-peer)`;
      this.refuse(call, { limit: 'streams-per-peer', code: grpc.status.RESOURCE_EXHAUSTED, message });
      return undefined;
    }
    this.open++;
    this.openByPeer.set(peer, fromPeer + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      const left = (this.openByPeer.get(peer) ?? 1) - 1;
      if (left > 0) this.openByPeer.set(peer, left);
      else this.openByPeer.delete(peer);
    };
  }

  /** Whether the request is within the limits; if not, the call is ended with INVALID_ARGUMENT. */
  accepts(call: RefusableCall, request: MeasuredRequest): boolean {
    if (this.refused.has(call)) return false;
    const refusal = this.problem(request);
    if (refusal === undefined) return true;
    this.refuse(call, refusal);
    return false;
  }

  /** Whether a stream may subscribe to `names` names of one type (delta subscriptions add up); if not, the call is ended. */
  acceptsSubscription(call: RefusableCall, names: number): boolean {
    const max = this.settings.maxResourceNames;
    if (names <= max) return true;
    const message = `a stream subscribes to ${names} resources of one type; at most ${max} (--xds-max-resource-names)`;
    this.refuse(call, { limit: 'resource-names', code: grpc.status.INVALID_ARGUMENT, message });
    return false;
  }

  /** Refusals so far, per limit (every limit listed, from 0). */
  refusals(): ReadonlyMap<LimitName, number> {
    return this.counts;
  }

  /** Streams admitted and not yet released (for leak checks). */
  openStreams(): number {
    return this.open;
  }

  private problem(request: MeasuredRequest): Refusal | undefined {
    const { maxNodeFieldBytes, maxResourceNames } = this.settings;
    const tooLong = (text: string | undefined): boolean => text !== undefined && Buffer.byteLength(text) > maxNodeFieldBytes;
    const invalid = grpc.status.INVALID_ARGUMENT;
    if (tooLong(request.node?.id)) {
      return { limit: 'node-id-length', code: invalid, message: `node.id is longer than ${maxNodeFieldBytes} bytes (--xds-max-node-bytes)` };
    }
    if (tooLong(request.node?.cluster)) {
      return { limit: 'node-cluster-length', code: invalid, message: `node.cluster is longer than ${maxNodeFieldBytes} bytes (--xds-max-node-bytes)` };
    }
    const count = names(request);
    if (count > maxResourceNames) {
      return { limit: 'resource-names', code: invalid, message: `a request names ${count} resources; at most ${maxResourceNames} (--xds-max-resource-names)` };
    }
    return undefined;
  }

  private refuse(call: RefusableCall, refusal: Refusal): void {
    this.refused.add(call);
    const counted = (this.counts.get(refusal.limit) ?? 0) + 1;
    this.counts.set(refusal.limit, counted);
    const at = this.now();
    const last = this.lastLogged.get(refusal.limit);
    if (last === undefined || at - last.at >= LOG_EVERY_MS) {
      const refused = counted - (last?.counted ?? 0);
      this.logger.warn({ limit: refusal.limit, peer: peerAddress(call.getPeer()), refused }, `xDS stream refused: ${refusal.message}`);
      this.lastLogged.set(refusal.limit, { at, counted });
    }
    call.emit('error', { code: refusal.code, details: refusal.message });
  }
}

/**
 * Counts the responses written to one stream that gRPC has not handed on yet. `write` says false
 * once MAX_PENDING_RESPONSES wait (or gRPC's own buffer is full); `resumed` is called when a write
 * completes below the bound after such a false, so the stream sends what became due meanwhile.
 */
export class PendingResponses {
  private pending = 0;
  private full = false;

  constructor(private readonly resumed: () => void) {}

  write(send: (done: () => void) => boolean): boolean {
    this.pending++;
    const accepted = send(() => {
      this.pending--;
      if (this.full && this.pending < MAX_PENDING_RESPONSES) {
        this.full = false;
        this.resumed();
      }
    });
    const writable = accepted && this.pending < MAX_PENDING_RESPONSES;
    if (!writable) this.full = true;
    return writable;
  }

  count(): number {
    return this.pending;
  }
}
