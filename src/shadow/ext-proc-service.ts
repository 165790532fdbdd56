// The shadow collector's gRPC face: Envoy's ext_proc `Process` streams, one per observed answer,
// sent in observability mode (sluice never answers; Envoy never waits). Reads the request id, the
// answer's status, body (up to a limit) and trailers, and hands one ObservedAnswer to the sink.
// Knows nothing of services' configuration or of comparing; never writes to a stream.

import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type protobuf from 'protobufjs';
import { SHADOW_SERVICE_METADATA, SHADOW_SIDES, SHADOW_SIDE_METADATA, SERVED_VERSION_HEADER, type ShadowSide } from '../model/types.js';
import { lookupMessage } from '../xds/protos.js';
import type { GrpcService } from '../xds/server/ads-server.js';
import type { Answer } from './compare.js';

/** One side's answer to one request, as Envoy reported it. */
export interface ObservedAnswer {
  service: string;
  side: ShadowSide;
  requestId: string;
  answer: Answer;
  /** The body was longer than the collector keeps: only its first bytes are in `answer.body`. */
  truncated: boolean;
  /** The version that answered, from the served-version header. */
  version: string | undefined;
  /** From the request's headers reaching Envoy's filter to the answer's last byte, as sluice saw the reports arrive. */
  latencyMs: number;
}

export interface AnswerSink {
  /** The most bytes of one answer's body kept. */
  readonly maxBodyBytes: number;
  answered(answer: ObservedAnswer): void;
}

interface HeaderValue {
  key: string;
  value?: string;
  raw_value?: Uint8Array;
}
interface HeaderMessage {
  headers?: { headers?: HeaderValue[] };
  end_of_stream?: boolean;
}
interface ProcessingRequest {
  request_headers?: HeaderMessage;
  response_headers?: HeaderMessage;
  response_body?: { body?: Uint8Array; end_of_stream?: boolean };
  response_trailers?: { trailers?: { headers?: HeaderValue[] } };
}

const PROCESSING_REQUEST = 'envoy.service.ext_proc.v3.ProcessingRequest';

function headerMap(values: HeaderValue[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const h of values ?? []) {
    const value = h.raw_value && h.raw_value.length > 0 ? Buffer.from(h.raw_value).toString('latin1') : (h.value ?? '');
    map.set(h.key.toLowerCase(), value);
  }
  return map;
}

function grpcStatusOf(headers: Map<string, string>): number | undefined {
  const text = headers.get('grpc-status');
  if (text === undefined || !/^\d{1,2}$/.test(text)) return undefined;
  return Number(text);
}

function isSide(text: string): text is ShadowSide {
  return (SHADOW_SIDES as readonly string[]).includes(text);
}

/** Follows one `Process` stream until its answer is complete, then reports it and ends the stream. */
function observe(call: grpc.ServerDuplexStream<Buffer, never>, sink: AnswerSink, type: protobuf.Type): void {
  const service = String(call.metadata.get(SHADOW_SERVICE_METADATA)[0] ?? '');
  const side = String(call.metadata.get(SHADOW_SIDE_METADATA)[0] ?? '');
  let requestId: string | undefined;
  let startedAt = performance.now();
  let status = 0;
  let grpcStatus: number | undefined;
  let contentType: string | undefined;
  let version: string | undefined;
  const chunks: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  let done = false;

  const finish = (): void => {
    done = true;
    call.end();
    if (requestId === undefined || service === '' || !isSide(side) || status === 0) return;
    sink.answered({
      service,
      side,
      requestId,
      answer: {
        status,
        ...(grpcStatus !== undefined ? { grpcStatus } : {}),
        ...(contentType !== undefined ? { contentType } : {}),
        body: Buffer.concat(chunks, kept),
      },
      truncated,
      version,
      latencyMs: performance.now() - startedAt,
    });
  };

  call.on('data', (buffer: Buffer) => {
    if (done) return;
    let message: ProcessingRequest;
    try {
      message = type.decode(buffer) as unknown as ProcessingRequest;
    } catch {
      done = true;
      call.end();
      return;
    }
    if (message.request_headers) {
      startedAt = performance.now();
      requestId = headerMap(message.request_headers.headers?.headers).get('x-request-id');
    } else if (message.response_headers) {
      const headers = headerMap(message.response_headers.headers?.headers);
      status = Number(headers.get(':status') ?? 0);
      grpcStatus = grpcStatusOf(headers);
      contentType = headers.get('content-type')?.toLowerCase();
      version = headers.get(SERVED_VERSION_HEADER);
      if (message.response_headers.end_of_stream) finish();
    } else if (message.response_body) {
      const body = message.response_body.body;
      if (body && body.length > 0) {
        const room = sink.maxBodyBytes - kept;
        if (body.length > room) truncated = true;
        if (room > 0) {
          const piece = Buffer.from(body.buffer, body.byteOffset, Math.min(room, body.length));
          chunks.push(Buffer.from(piece));
          kept += piece.length;
        }
      }
      if (message.response_body.end_of_stream) finish();
    } else if (message.response_trailers) {
      grpcStatus = grpcStatusOf(headerMap(message.response_trailers.trailers?.headers)) ?? grpcStatus;
      finish();
    }
  });
  call.on('end', () => {
    if (!done) {
      done = true;
      call.end();
    }
  });
  call.on('error', () => {
    done = true;
  });
}

/** `envoy.service.ext_proc.v3.ExternalProcessor/Process`, observing only. */
export function extProcService(sink: AnswerSink): GrpcService {
  const definition: grpc.ServiceDefinition = {
    Process: {
      path: '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
      requestStream: true,
      responseStream: true,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (value: Buffer) => value,
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (value: Buffer) => value,
    },
  };
  const type = lookupMessage(PROCESSING_REQUEST);
  const Process: grpc.handleBidiStreamingCall<Buffer, never> = (call) => observe(call, sink, type);
  return { definition, implementation: { Process } as grpc.UntypedServiceImplementation };
}
