// Reads discovery requests (state-of-the-world and delta) straight off the wire into the shapes in
// messages.ts: only the fields sluice reads, and of the node only its id, cluster and client
// version. Envoy repeats its node on every request, extensions, metadata and addresses included
// (several KiB); those are skipped unread. Encoding and protocol rules live elsewhere.

import protobuf from 'protobufjs';
import type { DeltaDiscoveryRequest, DiscoveryRequest, RawNode } from './messages.js';

type Reader = protobuf.Reader;

const LENGTH_DELIMITED = 2;

/** Field number and wire type of the next field, or throws on a malformed tag. */
function nextTag(reader: Reader): { field: number; wireType: number } {
  const tag = reader.uint32();
  return { field: tag >>> 3, wireType: tag & 7 };
}

/** Runs `read` on a length-delimited sub-message; throws when the field is not one. */
function readMessage(reader: Reader, wireType: number, read: (sub: Reader, end: number) => void): void {
  if (wireType !== LENGTH_DELIMITED) throw new Error(`invalid wire type ${wireType} for a message field`);
  const end = reader.uint32() + reader.pos;
  if (end > reader.len) throw new RangeError('message field runs past the end of the buffer');
  read(reader, end);
  if (reader.pos !== end) throw new RangeError('a field runs past the end of its message');
}

/** A string field; unlike protobufjs's reader of Buffers, refuses a length past the end of the bytes. */
function readString(reader: Reader, wireType: number): string {
  if (wireType !== LENGTH_DELIMITED) throw new Error(`invalid wire type ${wireType} for a string field`);
  const length = reader.uint32();
  const start = reader.pos;
  if (start + length > reader.len) throw new RangeError('a string field runs past the end of the request');
  reader.pos = start + length;
  return (reader.buf as Buffer).toString('utf8', start, reader.pos);
}

function readSemanticVersion(reader: Reader, end: number, into: NonNullable<NonNullable<RawNode['user_agent_build_version']>['version']>): void {
  while (reader.pos < end) {
    const { field, wireType } = nextTag(reader);
    if (field === 1 && wireType === 0) into.major_number = reader.uint32();
    else if (field === 2 && wireType === 0) into.minor_number = reader.uint32();
    else if (field === 3 && wireType === 0) into.patch = reader.uint32();
    else reader.skipType(wireType);
  }
}

function readNode(reader: Reader, end: number, node: RawNode): void {
  while (reader.pos < end) {
    const { field, wireType } = nextTag(reader);
    switch (field) {
      case 1:
        node.id = readString(reader, wireType);
        break;
      case 2:
        node.cluster = readString(reader, wireType);
        break;
      case 6:
        node.user_agent_name = readString(reader, wireType);
        break;
      case 7:
        // One of user_agent_version and user_agent_build_version: the last one on the wire wins.
        delete node.user_agent_build_version;
        node.user_agent_version = readString(reader, wireType);
        break;
      case 8: {
        delete node.user_agent_version;
        const build = (node.user_agent_build_version ??= {});
        readMessage(reader, wireType, (sub, subEnd) => {
          while (sub.pos < subEnd) {
            const inner = nextTag(sub);
            if (inner.field === 1) readMessage(sub, inner.wireType, (v, vEnd) => readSemanticVersion(v, vEnd, (build.version ??= {})));
            else sub.skipType(inner.wireType);
          }
        });
        break;
      }
      default:
        reader.skipType(wireType);
    }
  }
}

/** google.rpc.Status: its code and message (details skipped). */
function readStatus(reader: Reader, end: number, into: { code?: number; message?: string }): void {
  while (reader.pos < end) {
    const { field, wireType } = nextTag(reader);
    if (field === 1 && wireType === 0) into.code = reader.int32();
    else if (field === 2) into.message = readString(reader, wireType);
    else reader.skipType(wireType);
  }
}

function readInto<T>(buffer: Uint8Array, read: (reader: Reader, field: number, wireType: number, request: T) => boolean): T {
  const reader = protobuf.Reader.create(Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  const request = {} as T;
  while (reader.pos < reader.len) {
    const { field, wireType } = nextTag(reader);
    if (!read(reader, field, wireType, request)) reader.skipType(wireType);
  }
  return request;
}

export function decodeDiscoveryRequest(buffer: Uint8Array): DiscoveryRequest {
  return readInto<DiscoveryRequest>(buffer, (reader, field, wireType, request) => {
    switch (field) {
      case 1:
        request.version_info = readString(reader, wireType);
        return true;
      case 2:
        readMessage(reader, wireType, (sub, end) => readNode(sub, end, (request.node ??= {})));
        return true;
      case 3:
        (request.resource_names ??= []).push(readString(reader, wireType));
        return true;
      case 4:
        request.type_url = readString(reader, wireType);
        return true;
      case 5:
        request.response_nonce = readString(reader, wireType);
        return true;
      case 6:
        readMessage(reader, wireType, (sub, end) => readStatus(sub, end, (request.error_detail ??= {})));
        return true;
      default:
        return false;
    }
  });
}

export function decodeDeltaRequest(buffer: Uint8Array): DeltaDiscoveryRequest {
  return readInto<DeltaDiscoveryRequest>(buffer, (reader, field, wireType, request) => {
    switch (field) {
      case 1:
        readMessage(reader, wireType, (sub, end) => readNode(sub, end, (request.node ??= {})));
        return true;
      case 2:
        request.type_url = readString(reader, wireType);
        return true;
      case 3:
        (request.resource_names_subscribe ??= []).push(readString(reader, wireType));
        return true;
      case 4:
        (request.resource_names_unsubscribe ??= []).push(readString(reader, wireType));
        return true;
      case 5:
        readMessage(reader, wireType, (sub, end) => {
          let key = '';
          let value = '';
          while (sub.pos < end) {
            const entry = nextTag(sub);
            if (entry.field === 1) key = readString(sub, entry.wireType);
            else if (entry.field === 2) value = readString(sub, entry.wireType);
            else sub.skipType(entry.wireType);
          }
          const versions = (request.initial_resource_versions ??= Object.create(null) as Record<string, string>);
          versions[key] = value;
        });
        return true;
      case 6:
        request.response_nonce = readString(reader, wireType);
        return true;
      case 7:
        readMessage(reader, wireType, (sub, end) => readStatus(sub, end, (request.error_detail ??= {})));
        return true;
      default:
        return false;
    }
  });
}
