// The gRPC side of xDS: registers the aggregated discovery service (state-of-the-world and delta),
// the per-type listener / route / cluster / endpoint services and load reporting on @grpc/grpc-js, with
// serialisers built on the shared schema, and hands each stream to a protocol handler. Owns the
// port (plaintext or TLS, see xds-credentials.ts) and stream lifetimes, and with client
// certificates denies a stream whose identity may not claim its node (identity-policy.ts); the
// protocol rules live in the stream handlers.

import * as grpc from '@grpc/grpc-js';
import { createServer, type Server as NetServer } from 'node:net';
import type { Logger } from 'pino';
import type { SnapshotCache } from '../cache.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, type ResourceTypeUrl } from '../type-urls.js';
import type { StreamCallbacks, StreamTransport } from './callbacks.js';
import { DeltaStream } from './delta-stream.js';
import {
  decodeDeltaResponse,
  decodeDiscoveryResponse,
  encodeDeltaRequest,
  encodeDiscoveryRequest,
  serializeResponse,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
  type EncodedResponse,
  type NodeInfo,
} from './messages.js';
import { judgeClaim, type Refusal } from './identity-policy.js';
import type { WatchedIdentityPolicy } from './identity-policy-watch.js';
import { lrsDefinition, serveLoadStats, type LoadReportSink, type LoadStatsRequest } from './lrs.js';
import { identityOf } from './node-identity.js';
import { NodePeers } from './node-peers.js';
import { decodeDeltaRequest, decodeDiscoveryRequest } from './request-decoder.js';
import { ResponseBodies } from './response-bodies.js';
import { SotwStream } from './sotw-stream.js';
import { CONTROL_PLANE_ID, type EmptyStateGuard, type StreamDeps } from './stream-base.js';
import { DEFAULT_STREAM_LIMITS, PendingResponses, StreamLimits, type LimitName, type MeasuredRequest, type StreamLimitSettings } from './stream-limits.js';
import type { XdsCredentials } from './xds-credentials.js';

export interface XdsServerOptions {
  cache: SnapshotCache;
  callbacks: StreamCallbacks;
  logger: Logger;
  /** Where load reports (LRS) go; without one, sluice does not serve LRS. */
  loadReports?: LoadReportSink;
  /** How often Envoys report load, in milliseconds. */
  loadReportIntervalMs?: number;
  /** Which snapshot group a stream reads; every stream shares one group unless told otherwise. */
  groupOf?: (node: NodeInfo, transport: StreamTransport) => string;
  /** Keeps a connecting client's configuration while the snapshot comes from an empty state; without it, none is kept. */
  emptyState?: EmptyStateGuard;
  /** What one client may cost (streams, node fields, names per request); defaults where not given. */
  limits?: Partial<StreamLimitSettings>;
  /** The largest request gRPC accepts, in bytes (larger ones end the stream with RESOURCE_EXHAUSTED). */
  maxRequestBytes?: number;
  /** Serve TLS with these credentials (`watchXdsCredentials`; closed with the server); when they verify clients, every client needs a certificate. */
  tls?: XdsCredentials;
  /**
   * With client certificates: what each identity may claim, as the watched file says when a stream's
   * node is judged (`watchIdentityPolicy`; closed with the server); without, the node cluster must be
   * the identity's name.
   */
  identityPolicy?: WatchedIdentityPolicy;
  /** Told of each stream denied for what its identity claimed (after it is logged). */
  onDenied?(denial: StreamDenial): void;
  /** More gRPC services on the same port (the shadow collector), each with its handlers. */
  services?: readonly GrpcService[];
}

export interface GrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** A stream denied because its verified identity may not claim the node it sent. */
export interface StreamDenial {
  stream: 'discovery' | 'load-reports';
  claim: Refusal['claim'];
}

export const DEFAULT_GROUP = 'default';
export const DEFAULT_LOAD_REPORT_INTERVAL_MS = 2000;
/**
 * Connections the kernel may hold for sluice to accept (capped by net.core.somaxconn): a fleet
 * reconnecting at once after a fail-over sends thousands of connects in a burst, more than node's
 * default of 511 (Go's servers take the kernel's cap, 4096 on most systems).
 */
export const LISTEN_BACKLOG = 4096;

/** gRPC's own default: a discovery request or load report of a large fleet is a few hundred KiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

const sotwMethod = {
  requestStream: true,
  responseStream: true,
  requestSerialize: encodeDiscoveryRequest,
  requestDeserialize: decodeDiscoveryRequest,
  responseSerialize: serializeResponse,
  responseDeserialize: decodeDiscoveryResponse,
} as const;

const deltaMethod = {
  requestStream: true,
  responseStream: true,
  requestSerialize: encodeDeltaRequest,
  requestDeserialize: decodeDeltaRequest,
  responseSerialize: serializeResponse,
  responseDeserialize: decodeDeltaResponse,
} as const;

/** gRPC service path, SotW method, delta method, and the one type a per-type service carries. */
const SERVICES: readonly [string, string, string, ResourceTypeUrl | undefined][] = [
  ['envoy.service.discovery.v3.AggregatedDiscoveryService', 'StreamAggregatedResources', 'DeltaAggregatedResources', undefined],
  ['envoy.service.listener.v3.ListenerDiscoveryService', 'StreamListeners', 'DeltaListeners', LISTENER_TYPE],
  ['envoy.service.route.v3.RouteDiscoveryService', 'StreamRoutes', 'DeltaRoutes', ROUTE_TYPE],
  ['envoy.service.cluster.v3.ClusterDiscoveryService', 'StreamClusters', 'DeltaClusters', CLUSTER_TYPE],
  ['envoy.service.endpoint.v3.EndpointDiscoveryService', 'StreamEndpoints', 'DeltaEndpoints', ENDPOINT_TYPE],
];

interface ProtocolStream<Request> {
  handleRequest(request: Request): void;
  drained(): void;
  regroup(): void;
  close(): void;
}

export class XdsServer {
  private readonly server: grpc.Server;
  private nextStreamId = 1;
  private readonly streams = new Set<ProtocolStream<never>>();
  private readonly peers = new NodePeers();
  /** State-of-the-world response bodies, shared by the streams sending the same. */
  private readonly bodies = new ResponseBodies(CONTROL_PLANE_ID);
  private readonly limits: StreamLimits;
  /** The most responses one stream has had pending at once (see PendingResponses). */
  private peakPending = 0;
  private listener: NetServer | undefined;

  constructor(private readonly options: XdsServerOptions) {
    this.limits = new StreamLimits({ ...DEFAULT_STREAM_LIMITS, ...options.limits }, options.logger);
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_receive_message_length': options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      'grpc.max_send_message_length': 256 * 1024 * 1024,
    });
    for (const [service, sotwName, deltaName, fixedType] of SERVICES) {
      const definition: grpc.ServiceDefinition = {
        [sotwName]: { path: `/${service}/${sotwName}`, ...sotwMethod },
        [deltaName]: { path: `/${service}/${deltaName}`, ...deltaMethod },
      };
      const sotw: grpc.handleBidiStreamingCall<DiscoveryRequest, EncodedResponse> = (call) =>
        this.serve(call, (deps) => new SotwStream({ ...deps, ...(fixedType ? { fixedType } : {}) }, this.bodies));
      const delta: grpc.handleBidiStreamingCall<DeltaDiscoveryRequest, EncodedResponse> = (call) =>
        this.serve(call, (deps) => new DeltaStream({ ...deps, ...(fixedType ? { fixedType } : {}) }, this.bodies));
      this.server.addService(definition, { [sotwName]: sotw, [deltaName]: delta } as grpc.UntypedServiceImplementation);
    }
    const sink = options.loadReports;
    if (sink) {
      const interval = options.loadReportIntervalMs ?? DEFAULT_LOAD_REPORT_INTERVAL_MS;
      const streamLoadStats: grpc.handleBidiStreamingCall<LoadStatsRequest, object> = (call) => {
        const release = this.limits.admit(call);
        if (!release) return;
        const refusalOf = this.refusalCheck(call, 'load-reports');
        serveLoadStats(call, sink, options.logger, interval, {
          accepts: (request) => {
            if (this.limits.accepts(call, request)) return true;
            release();
            return false;
          },
          serves: (nodeId, cluster) => this.peers.servesCluster(nodeId, cluster),
          closed: release,
          ...(refusalOf ? { refusalOf } : {}),
        });
      };
      this.server.addService(lrsDefinition, { StreamLoadStats: streamLoadStats } as grpc.UntypedServiceImplementation);
    }
    for (const service of options.services ?? []) this.server.addService(service.definition, service.implementation);
  }

  /**
   * Binds and starts serving; returns the bound port (useful with port 0). sluice owns the
   * listening socket (for its backlog, LISTEN_BACKLOG) and hands each connection to gRPC.
   */
  async listen(host: string, port: number): Promise<number> {
    const credentials = this.options.tls?.credentials ?? grpc.ServerCredentials.createInsecure();
    const injector = this.server.createConnectionInjector(credentials);
    const listener = createServer((socket) => injector.injectConnection(socket));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.listener = listener;
    return (listener.address() as { port: number }).port;
  }

  /** Ends every stream at once (clients reconnect elsewhere or later) and stops listening. */
  async close(): Promise<void> {
    for (const stream of this.streams) stream.close();
    this.streams.clear();
    this.listener?.close();
    this.server.forceShutdown();
    this.options.tls?.close();
    this.options.identityPolicy?.close();
  }

  /**
   * With client certificates, what tells whether the call's verified identity may claim a node
   * (a refusal is logged once and counted); without, nothing to check.
   */
  private refusalCheck(
    call: Pick<grpc.ServerDuplexStream<unknown, unknown>, 'getAuthContext' | 'getPeer'>,
    stream: StreamDenial['stream'],
  ): ((node: NodeInfo) => string | undefined) | undefined {
    if (!this.options.tls?.verifiesClients) return undefined;
    return (node) => {
      const identity = identityOf(call.getAuthContext().sslPeerCertificate);
      const refusal = judgeClaim(this.options.identityPolicy?.current(), identity, node);
      if (refusal === undefined) return undefined;
      this.options.logger.warn(
        { stream, identity, node: node.id, nodeCluster: node.cluster, claim: refusal.claim, peer: call.getPeer() },
        `xDS stream denied: ${refusal.reason}`,
      );
      this.options.onDenied?.({ stream, claim: refusal.claim });
      return refusal.reason;
    };
  }

  streamCount(): number {
    return this.streams.size;
  }

  /** Every stream asks `groupOf` again and reads the group it names now (see StreamBase.regroup). */
  regroup(): void {
    for (const stream of this.streams) stream.regroup();
  }

  /** Nodes with at least one open stream (for leak checks). */
  nodeCount(): number {
    return this.peers.nodeCount();
  }

  /** Streams (xDS and load reporting) holding a place under the stream limits (for leak checks). */
  admittedStreams(): number {
    return this.limits.openStreams();
  }

  /** Streams refused so far, per limit. */
  refusals(): ReadonlyMap<LimitName, number> {
    return this.limits.refusals();
  }

  /** The most responses any one stream has had written and not yet taken by gRPC, since start. */
  peakPendingResponses(): number {
    return this.peakPending;
  }

  private serve<Request, Response>(
    call: grpc.ServerDuplexStream<Request, Response>,
    create: (deps: StreamDeps<Response>) => ProtocolStream<Request>,
  ): void {
    const release = this.limits.admit(call);
    if (!release) return;
    const streamId = this.nextStreamId++;
    const logger = this.options.logger;
    let stream: ProtocolStream<Request> | undefined;
    const refusalOf = this.refusalCheck(call, 'discovery');
    const finish = (): void => {
      release();
      if (!stream || !this.streams.delete(stream as ProtocolStream<never>)) return;
      stream.close();
    };
    const pending = new PendingResponses(() => stream?.drained());
    stream = create({
      streamId,
      cache: this.options.cache,
      groupOf: this.options.groupOf ?? (() => DEFAULT_GROUP),
      callbacks: this.options.callbacks,
      peers: this.peers,
      ...(this.options.emptyState ? { emptyState: this.options.emptyState } : {}),
      logger,
      write: (response) => {
        const writable = pending.write((done) => call.write(response, done));
        this.peakPending = Math.max(this.peakPending, pending.count());
        return writable;
      },
      subscriptionWithinLimit: (names) => {
        if (this.limits.acceptsSubscription(call, names)) return true;
        finish();
        return false;
      },
      fail: (message) => {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: message });
        finish();
      },
      ...(refusalOf ? { refusalOf } : {}),
      deny: (reason) => {
        call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: reason });
        finish();
      },
    });
    this.streams.add(stream as ProtocolStream<never>);
    call.on('data', (request: Request) => {
      if (!this.limits.accepts(call, request as MeasuredRequest)) return finish();
      try {
        stream?.handleRequest(request);
      } catch (error) {
        logger.error({ err: error, streamId }, 'xDS request handling failed');
        call.emit('error', { code: grpc.status.INTERNAL, details: 'sluice failed to handle the request' });
        finish();
      }
    });
    call.on('drain', () => stream?.drained());
    call.on('end', () => {
      call.end();
      finish();
    });
    call.on('error', finish);
    call.on('close', finish);
    call.on('cancelled', finish);
  }
}
