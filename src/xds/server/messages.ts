// The decoded shapes of the discovery messages sluice reads and writes, and their gRPC
// (de)serialisers built on the shared schema (requests are read by request-decoder.ts). Protocol
// logic lives in the stream handlers.

import { messageType } from '../codec.js';

export interface NodeInfo {
  id: string;
  cluster: string;
  userAgentName: string;
  /** The client's own version: "1.40.0" from user_agent_build_version, or user_agent_version. */
  clientVersion: string;
  /** The same, but only when the client is Envoy (features are gated on Envoy versions); else "". */
  envoyVersion: string;
}

export interface DiscoveryRequest {
  version_info?: string;
  node?: RawNode;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

export interface RawNode {
  id?: string;
  cluster?: string;
  user_agent_name?: string;
  user_agent_version?: string;
  user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } };
}

export interface DiscoveryResponse {
  version_info: string;
  resources: { type_url: string; value: Uint8Array }[];
  type_url: string;
  nonce: string;
  control_plane: { identifier: string };
}

export interface DeltaDiscoveryRequest {
  node?: RawNode;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

export interface DeltaResource {
  name: string;
  version: string;
  resource: { type_url: string; value: Uint8Array };
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
  control_plane: { identifier: string };
}

const requestType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
const responseType = messageType('envoy.service.discovery.v3.DiscoveryResponse');

const deltaRequestType = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
const deltaResponseType = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');

export function encodeDeltaRequest(request: DeltaDiscoveryRequest): Buffer {
  return Buffer.from(deltaRequestType.encode(deltaRequestType.fromObject(request)).finish());
}

export function decodeDeltaResponse(buffer: Buffer): DeltaDiscoveryResponse {
  return deltaResponseType.toObject(deltaResponseType.decode(buffer), {
    longs: Number,
    enums: String,
    defaults: true,
  }) as DeltaDiscoveryResponse;
}

export function encodeDiscoveryRequest(request: DiscoveryRequest): Buffer {
  return Buffer.from(requestType.encode(requestType.fromObject(request)).finish());
}

/** A response as a stream writes it (SotW or delta): the shared body (see ResponseBodies) and its own nonce. */
export interface EncodedResponse {
  body: Buffer;
  nonce: string;
}

/** Everything of a state-of-the-world response but its nonce. */
export function encodeResponseBody(response: Omit<DiscoveryResponse, 'nonce'>): Buffer {
  return Buffer.from(responseType.encode(responseType.fromObject(response)).finish());
}

/** Everything of a delta response but its nonce. */
export function encodeDeltaResponseBody(response: Omit<DeltaDiscoveryResponse, 'nonce'>): Buffer {
  return Buffer.from(deltaResponseType.encode(deltaResponseType.fromObject(response)).finish());
}

/** The nonce is field 5 of DiscoveryResponse and of DeltaDiscoveryResponse, length-delimited: tag (5 << 3) | 2. */
const NONCE_TAG = 0x2a;

/**
 * The response's bytes: its body followed by the nonce field (protobuf reads fields in any order;
 * the body carries none). Nonces are short: their length fits a varint of one or two bytes.
 */
export function serializeResponse(response: EncodedResponse): Buffer {
  const nonceLength = Buffer.byteLength(response.nonce);
  if (nonceLength >= 1 << 14) throw new Error('nonce too long');
  const lengthBytes = nonceLength < 0x80 ? 1 : 2;
  const out = Buffer.allocUnsafe(response.body.length + 1 + lengthBytes + nonceLength);
  response.body.copy(out, 0);
  let at = response.body.length;
  out[at++] = NONCE_TAG;
  if (lengthBytes === 1) out[at++] = nonceLength;
  else {
    out[at++] = (nonceLength & 0x7f) | 0x80;
    out[at++] = nonceLength >> 7;
  }
  out.write(response.nonce, at, 'utf8');
  return out;
}

export function decodeDiscoveryResponse(buffer: Buffer): DiscoveryResponse {
  return responseType.toObject(responseType.decode(buffer), { longs: Number, enums: String, defaults: true }) as DiscoveryResponse;
}

export function nodeInfo(node: RawNode): NodeInfo {
  const version = node.user_agent_build_version?.version;
  const clientVersion = version
    ? `${version.major_number ?? 0}.${version.minor_number ?? 0}.${version.patch ?? 0}`
    : (node.user_agent_version ?? '');
  const userAgentName = node.user_agent_name ?? '';
  return {
    id: node.id ?? '',
    cluster: node.cluster ?? '',
    userAgentName,
    clientVersion,
    envoyVersion: userAgentName === 'envoy' ? clientVersion : '',
  };
}
