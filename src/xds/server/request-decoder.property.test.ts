// The wire reader of discovery requests against protobufjs's full decoding of the same bytes: for
// any request (nodes with metadata, extensions, locality and addresses, NACKs with details, unknown
// fields), the fields sluice reads come out the same; the rest of the node is skipped, and bytes
// that are not a request are refused.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageType } from '../codec.js';
import { decodeDeltaRequest, decodeDiscoveryRequest } from './request-decoder.js';

const sotwType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
const deltaType = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');

function encode(type: typeof sotwType, object: object): Uint8Array {
  return type.encode(type.fromObject(object)).finish();
}

/** What sluice reads of a node, as protobufjs's full decoding gives it. */
function readPart(node: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (node === undefined) return undefined;
  const kept = ['id', 'cluster', 'user_agent_name', 'user_agent_version', 'user_agent_build_version'];
  const part = Object.fromEntries(Object.entries(node).filter(([key]) => kept.includes(key)));
  const build = part['user_agent_build_version'] as { version?: unknown } | undefined;
  if (build) part['user_agent_build_version'] = build.version === undefined ? {} : { version: build.version };
  return part;
}

function reference(type: typeof sotwType, bytes: Uint8Array): Record<string, unknown> {
  const object = type.toObject(type.decode(bytes), { longs: Number, enums: String }) as Record<string, unknown>;
  delete object['resource_locators'];
  delete object['resource_locators_subscribe'];
  delete object['resource_locators_unsubscribe'];
  if (object['node'] !== undefined) object['node'] = readPart(object['node'] as Record<string, unknown>);
  const status = object['error_detail'] as { details?: unknown } | undefined;
  if (status) delete status.details;
  return object;
}

const text = fc.string({ maxLength: 12 });
const semanticVersion = fc.record({ major_number: fc.nat(2000), minor_number: fc.nat(99), patch: fc.nat(99) }, { requiredKeys: [] });
const node = fc.record(
  {
    id: text,
    cluster: text,
    user_agent_name: text,
    user_agent_version: text,
    user_agent_build_version: fc.record({ version: semanticVersion, metadata: fc.constant({ fields: { a: { string_value: 'b' } } }) }, { requiredKeys: [] }),
    metadata: fc.dictionary(text, text, { maxKeys: 3 }).map((fields) => ({ fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { string_value: v }])) })),
    locality: fc.record({ region: text, zone: text }),
    extensions: fc.array(fc.record({ name: text, category: text, disabled: fc.boolean() }), { maxLength: 5 }),
    client_features: fc.array(text, { maxLength: 3 }),
    listening_addresses: fc.array(fc.record({ socket_address: fc.record({ address: text, port_value: fc.nat(65535) }) }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
).map(({ user_agent_version, ...rest }) =>
  // One of the two client versions (protobufjs would keep both of a oneof on the wire; the last one wins).
  rest.user_agent_build_version === undefined && user_agent_version !== undefined ? { ...rest, user_agent_version } : rest,
);
const status = fc.record(
  { code: fc.integer({ min: -5, max: 16 }), message: text, details: fc.array(fc.record({ type_url: text, value: fc.uint8Array({ maxLength: 4 }) }), { maxLength: 2 }) },
  { requiredKeys: [] },
);
const locators = fc.array(fc.record({ name: text }), { maxLength: 2 });

const sotwRequest = fc.record(
  {
    version_info: text,
    node,
    resource_names: fc.array(text, { maxLength: 4 }),
    resource_locators: locators,
    type_url: text,
    response_nonce: text,
    error_detail: status,
  },
  { requiredKeys: [] },
);

const deltaRequest = fc.record(
  {
    node,
    type_url: text,
    resource_names_subscribe: fc.array(text, { maxLength: 4 }),
    resource_names_unsubscribe: fc.array(text, { maxLength: 4 }),
    resource_locators_subscribe: locators,
    initial_resource_versions: fc.dictionary(text.filter((key) => key !== '__proto__'), text, { maxKeys: 4 }),
    response_nonce: text,
    error_detail: status,
  },
  { requiredKeys: [] },
);

describe('reading discovery requests off the wire', () => {
  it('reads every state-of-the-world request as protobufjs does, the node cut to what sluice reads', () => {
    fc.assert(
      fc.property(sotwRequest, (request) => {
        const bytes = encode(sotwType, request);
        expect(decodeDiscoveryRequest(bytes)).toEqual(reference(sotwType, bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('reads every delta request as protobufjs does, the node cut to what sluice reads', () => {
    fc.assert(
      fc.property(deltaRequest, (request) => {
        const bytes = encode(deltaType, request);
        expect({ ...decodeDeltaRequest(bytes) }).toEqual(reference(deltaType, bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("reads an Envoy ACK's node version under its extensions and metadata, and an empty NACK as a NACK", () => {
    const extensions = Array.from({ length: 150 }, (_, i) => ({ name: `envoy.filters.http.f${i}`, category: 'envoy.filters.http' }));
    const bytes = encode(sotwType, {
      node: {
        id: 'edge-1',
        cluster: 'edge',
        metadata: { fields: { zone: { string_value: 'a' } } },
        user_agent_name: 'envoy',
        user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 2 } },
        extensions,
      },
      type_url: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
      response_nonce: '7',
      error_detail: {},
    });
    expect(decodeDiscoveryRequest(bytes)).toEqual({
      node: { id: 'edge-1', cluster: 'edge', user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 2 } } },
      type_url: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
      response_nonce: '7',
      error_detail: {},
    });
  });

  it('refuses bytes that are not a request: a length past the end, a string field sent as a number', () => {
    const nonce = encode(sotwType, { response_nonce: 'abc' });
    expect(() => decodeDiscoveryRequest(nonce.subarray(0, nonce.length - 1))).toThrow();
    expect(() => decodeDiscoveryRequest(Uint8Array.from([(5 << 3) | 0, 1]))).toThrow(/wire type/);
    const withNode = encode(deltaType, { node: { id: 'n', cluster: 'c' } });
    // The node's own length now claims one byte more than its fields.
    const stretched = Uint8Array.from([...withNode, 0]);
    stretched[1] = stretched[1]! + 1;
    expect(() => decodeDeltaRequest(stretched)).toThrow();
  });
});
