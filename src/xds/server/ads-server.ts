// The gRPC side of xDS: registers the aggregated discovery service on @grpc/grpc-js with
// serialisers built on the shared schema, and hands each stream to a protocol handler. Owns
// ports and stream lifetimes; the protocol rules live in the stream handlers.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SnapshotCache } from '../cache.js';
import type { StreamCallbacks } from './callbacks.js';
import {
  decodeDiscoveryRequest,
  decodeDiscoveryResponse,
  encodeDiscoveryRequest,
  encodeDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type NodeInfo,
} from './messages.js';
import { SotwStream } from './sotw-stream.js';

const ADS_SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

const adsDefinition: grpc.ServiceDefinition = {
  StreamAggregatedResources: {
    path: `${ADS_SERVICE}/StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: encodeDiscoveryRequest,
    requestDeserialize: decodeDiscoveryRequest,
    responseSerialize: encodeDiscoveryResponse,
    responseDeserialize: decodeDiscoveryResponse,
    originalName: 'streamAggregatedResources',
  },
};

export interface XdsServerOptions {
  cache: SnapshotCache;
  callbacks: StreamCallbacks;
  logger: Logger;
  /** Which snapshot group a node reads; every node shares one group unless told otherwise. */
  groupOf?: (node: NodeInfo) => string;
}

export const DEFAULT_GROUP = 'default';

export class XdsServer {
  private readonly server: grpc.Server;
  private nextStreamId = 1;
  private readonly streams = new Set<SotwStream>();

  constructor(private readonly options: XdsServerOptions) {
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.max_send_message_length': 256 * 1024 * 1024,
    });
    this.server.addService(adsDefinition, {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.sotw(call),
    });
  }

  /** Binds and starts serving; returns the bound port (useful with port 0). */
  async listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) reject(error);
        else resolve(boundPort);
      });
    });
  }

  /** Ends every stream at once (clients reconnect elsewhere or later) and stops listening. */
  async close(): Promise<void> {
    for (const stream of this.streams) stream.close();
    this.server.forceShutdown();
  }

  streamCount(): number {
    return this.streams.size;
  }

  private sotw(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    const streamId = this.nextStreamId++;
    const logger = this.options.logger;
    const stream = new SotwStream({
      streamId,
      cache: this.options.cache,
      groupOf: this.options.groupOf ?? (() => DEFAULT_GROUP),
      callbacks: this.options.callbacks,
      logger,
      write: (response) => call.write(response),
      fail: (message) => {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: message });
        finish();
      },
    });
    this.streams.add(stream);
    const finish = (): void => {
      if (!this.streams.delete(stream)) return;
      stream.close();
    };
    call.on('data', (request: DiscoveryRequest) => {
      try {
        stream.handleRequest(request);
      } catch (error) {
        logger.error({ err: error, streamId }, 'xDS request handling failed');
        call.destroy(error as Error);
        finish();
      }
    });
    call.on('drain', () => stream.drained());
    call.on('end', () => {
      call.end();
      finish();
    });
    call.on('error', () => finish());
    call.on('close', () => finish());
    call.on('cancelled', () => finish());
  }
}
