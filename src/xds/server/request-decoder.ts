// Reads discovery requests (state-of-the-world and delta) straight off the wire into the shapes in
// messages.ts: only the fields sluice reads, and of the node only its id, cluster and client
// version. Envoy repeats its node on every request, extensions, metadata and addresses included
// (several KiB); those are skipped unread. Encoding and protocol rules live elsewhere.

import { VARINT, eachField, lengthDelimited, readString } from '../../protobuf-wire.js';
import type { DeltaDiscoveryRequest, DiscoveryRequest, RawNode } from './messages.js';

type SemanticVersion = NonNullable<NonNullable<RawNode['user_agent_build_version']>['version']>;

function readSemanticVersion(bytes: Buffer, into: SemanticVersion): void {
  eachField(bytes, (reader, number, wire) => {
    const key = number === 1 ? 'major_number' : number === 2 ? 'minor_number' : number === 3 ? 'patch' : undefined;
    if (key === undefined || wire !== VARINT) return false;
    into[key] = reader.uint32();
    return true;
  });
}

function readNode(bytes: Buffer, node: RawNode): void {
  eachField(bytes, (reader, number, wire) => {
    switch (number) {
      case 1:
        node.id = readString(reader, wire, 'node.id');
        return true;
      case 2:
        node.cluster = readString(reader, wire, 'node.cluster');
        return true;
      case 6:
        node.user_agent_name = readString(reader, wire, 'node.user_agent_name');
        return true;
      case 7:
        // One of user_agent_version and user_agent_build_version: the last one on the wire wins.
        delete node.user_agent_build_version;
        node.user_agent_version = readString(reader, wire, 'node.user_agent_version');
        return true;
      case 8: {
        delete node.user_agent_version;
        const build = (node.user_agent_build_version ??= {});
        eachField(lengthDelimited(reader, wire, 'node.user_agent_build_version'), (sub, inner, innerWire) => {
          if (inner !== 1) return false;
          readSemanticVersion(lengthDelimited(sub, innerWire, 'node.user_agent_build_version.version'), (build.version ??= {}));
          return true;
        });
        return true;
      }
      default:
        return false;
    }
  });
}

/** google.rpc.Status: its code and message (details skipped). */
function readStatus(bytes: Buffer, into: { code?: number; message?: string }): void {
  eachField(bytes, (reader, number, wire) => {
    if (number === 1 && wire === VARINT) into.code = reader.int32();
    else if (number === 2) into.message = readString(reader, wire, 'error_detail.message');
    else return false;
    return true;
  });
}

export function decodeDiscoveryRequest(buffer: Uint8Array): DiscoveryRequest {
  const request: DiscoveryRequest = {};
  eachField(buffer, (reader, number, wire) => {
    switch (number) {
      case 1:
        request.version_info = readString(reader, wire, 'version_info');
        return true;
      case 2:
        readNode(lengthDelimited(reader, wire, 'node'), (request.node ??= {}));
        return true;
      case 3:
        (request.resource_names ??= []).push(readString(reader, wire, 'resource_names'));
        return true;
      case 4:
        request.type_url = readString(reader, wire, 'type_url');
        return true;
      case 5:
        request.response_nonce = readString(reader, wire, 'response_nonce');
        return true;
      case 6:
        readStatus(lengthDelimited(reader, wire, 'error_detail'), (request.error_detail ??= {}));
        return true;
      default:
        return false;
    }
  });
  return request;
}

export function decodeDeltaRequest(buffer: Uint8Array): DeltaDiscoveryRequest {
  const request: DeltaDiscoveryRequest = {};
  eachField(buffer, (reader, number, wire) => {
    switch (number) {
      case 1:
        readNode(lengthDelimited(reader, wire, 'node'), (request.node ??= {}));
        return true;
      case 2:
        request.type_url = readString(reader, wire, 'type_url');
        return true;
      case 3:
        (request.resource_names_subscribe ??= []).push(readString(reader, wire, 'resource_names_subscribe'));
        return true;
      case 4:
        (request.resource_names_unsubscribe ??= []).push(readString(reader, wire, 'resource_names_unsubscribe'));
        return true;
      case 5: {
        let key = '';
        let value = '';
        eachField(lengthDelimited(reader, wire, 'initial_resource_versions'), (entry, entryNumber, entryWire) => {
          if (entryNumber === 1) key = readString(entry, entryWire, 'initial_resource_versions key');
          else if (entryNumber === 2) value = readString(entry, entryWire, 'initial_resource_versions value');
          else return false;
          return true;
        });
        (request.initial_resource_versions ??= Object.create(null) as Record<string, string>)[key] = value;
        return true;
      }
      case 6:
        request.response_nonce = readString(reader, wire, 'response_nonce');
        return true;
      case 7:
        readStatus(lengthDelimited(reader, wire, 'error_detail'), (request.error_detail ??= {}));
        return true;
      default:
        return false;
    }
  });
  return request;
}
