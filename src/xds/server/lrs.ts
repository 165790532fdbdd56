// The load reporting service (LRS, envoy.service.load_stats.v3) on the xDS port: Envoys stream
// their per-cluster request counts every interval. This module speaks the protocol — ask for
// every cluster at a fixed interval, decode each report — and hands the sink the reports on
// clusters sluice serves to the reporting node, and the others to be dropped; it does not keep or
// interpret them.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { messageType } from '../codec.js';
import { nodeInfo, type NodeInfo, type RawNode } from './messages.js';

export interface LoadReport {
  nodeId: string;
  cluster: string;
  successful: number;
  errors: number;
  issued: number;
  /** The interval the counts cover, in milliseconds (as the client measured it). */
  intervalMs: number;
}

export interface LoadReportSink {
  report(reports: LoadReport[]): void;
  /** Reports on clusters sluice does not serve to their node: evidence of nothing, not kept. */
  drop(reports: LoadReport[]): void;
}

/** What the xDS server decides for a load reporting stream. */
export interface LoadStatsGuard {
  /** Whether a request is within the port's limits (if not, the stream has been ended). */
  accepts(request: LoadStatsRequest): boolean;
  /** Whether sluice serves `cluster` to node `nodeId` now (over one of its xDS streams). */
  serves(nodeId: string, cluster: string): boolean;
  /** The stream is over. */
  closed(): void;
  /** Why the stream's credentials may not claim this node (the stream is then denied), or undefined. */
  refusalOf?(node: NodeInfo): string | undefined;
}

interface UpstreamLocalityStats {
  total_successful_requests?: number;
  total_error_requests?: number;
  total_issued_requests?: number;
}

export interface LoadStatsRequest {
  node?: RawNode;
  cluster_stats?: {
    cluster_name?: string;
    upstream_locality_stats?: UpstreamLocalityStats[];
    load_report_interval?: { seconds?: number; nanos?: number };
  }[];
}

const requestType = messageType('envoy.service.load_stats.v3.LoadStatsRequest');
const responseType = messageType('envoy.service.load_stats.v3.LoadStatsResponse');

export const LRS_PATH = '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats';

export const lrsDefinition: grpc.ServiceDefinition = {
  StreamLoadStats: {
    path: LRS_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: (request: LoadStatsRequest) => Buffer.from(requestType.encode(requestType.fromObject(request)).finish()),
    requestDeserialize: (buffer: Buffer) => requestType.toObject(requestType.decode(buffer), { longs: Number }) as LoadStatsRequest,
    responseSerialize: (response: object) => Buffer.from(responseType.encode(responseType.fromObject(response)).finish()),
    responseDeserialize: (buffer: Buffer) => responseType.toObject(responseType.decode(buffer), { longs: Number }),
  },
};

function reportsOf(nodeId: string, request: LoadStatsRequest): LoadReport[] {
  return (request.cluster_stats ?? []).map((stats) => {
    let successful = 0;
    let errors = 0;
    let issued = 0;
    for (const locality of stats.upstream_locality_stats ?? []) {
      successful += locality.total_successful_requests ?? 0;
      errors += locality.total_error_requests ?? 0;
      issued += locality.total_issued_requests ?? 0;
    }
    const interval = stats.load_report_interval;
    return {
      nodeId,
      cluster: stats.cluster_name ?? '',
      successful,
      errors,
      issued,
      intervalMs: (interval?.seconds ?? 0) * 1000 + Math.round((interval?.nanos ?? 0) / 1e6),
    };
  });
}

/**
 * Handles one LRS stream: answers the first request with "all clusters, every `intervalMs`"
 * (Envoy then re-reads its cluster list at every report; a cluster's first period is not counted).
 * With `refusalOf`, a node the stream's credentials may not claim is denied and nothing it sends is kept.
 */
export function serveLoadStats(
  call: grpc.ServerDuplexStream<LoadStatsRequest, object>,
  sink: LoadReportSink,
  logger: Logger,
  intervalMs: number,
  guard: LoadStatsGuard,
): void {
  let nodeId: string | undefined;
  let denied = false;
  call.on('data', (request: LoadStatsRequest) => {
    if (denied || !guard.accepts(request)) return;
    if (nodeId === undefined) {
      const node = nodeInfo(request.node ?? {});
      const refusal = guard.refusalOf?.(node);
      if (refusal !== undefined) {
        denied = true;
        call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: refusal });
        return;
      }
      nodeId = node.id;
      call.write({
        send_all_clusters: true,
        load_reporting_interval: { seconds: Math.floor(intervalMs / 1000), nanos: (intervalMs % 1000) * 1e6 },
      });
      logger.debug({ node: nodeId }, 'load reporting started');
    }
    const served: LoadReport[] = [];
    const unserved: LoadReport[] = [];
    for (const report of reportsOf(nodeId, request)) (guard.serves(report.nodeId, report.cluster) ? served : unserved).push(report);
    if (served.length > 0) sink.report(served);
    if (unserved.length > 0) sink.drop(unserved);
  });
  call.on('end', () => call.end());
  call.on('error', () => undefined);
  call.on('close', guard.closed);
  call.on('cancelled', guard.closed);
}
