import { describe, expect, it } from 'vitest';
import type { EncodedResource } from '../snapshot.js';
import { ROUTE_TYPE } from '../type-urls.js';
import { decodeDeltaResponse, decodeDiscoveryResponse, serializeResponse } from './messages.js';
import { MAX_BODIES, ResponseBodies } from './response-bodies.js';

function resource(name: string, version: string, bytes: number[]): EncodedResource {
  return { name, version, typeUrl: ROUTE_TYPE, bytes: Uint8Array.from(bytes), json: '{}' };
}

const a = resource('a', 'va', [10, 1, 97]);
const b = resource('b', 'vb', [10, 1, 98]);

describe('ResponseBodies and serializeResponse', () => {
  it('writes what a DiscoveryResponse with that nonce decodes to, for short and long nonces', () => {
    const bodies = new ResponseBodies('sluice');
    for (const nonce of ['', '7', 'n'.repeat(127), 'n'.repeat(128), 'é'.repeat(300)]) {
      const bytes = serializeResponse({ body: bodies.body(ROUTE_TYPE, 'v1', [a, b], false), nonce });
      expect(decodeDiscoveryResponse(bytes)).toEqual({
        version_info: 'v1',
        resources: [
          { type_url: ROUTE_TYPE, value: Buffer.from(a.bytes) },
          { type_url: ROUTE_TYPE, value: Buffer.from(b.bytes) },
        ],
        type_url: ROUTE_TYPE,
        nonce,
        canary: false,
        control_plane: { identifier: 'sluice' },
      });
    }
  });

  it('encodes a body once for every stream that sends the same, and apart for other contents', () => {
    const bodies = new ResponseBodies('sluice');
    const whole = bodies.body(ROUTE_TYPE, 'v1', [a, b], true);
    expect(bodies.body(ROUTE_TYPE, 'v1', [a, b], true)).toBe(whole);
    const named = bodies.body(ROUTE_TYPE, 'v1', [a], false);
    expect(named).not.toBe(whole);
    expect(bodies.body(ROUTE_TYPE, 'v1', [a], false)).toBe(named);
    // Another resource version under the same names (a client's own subset): another body.
    const changed = bodies.body(ROUTE_TYPE, 'v1', [resource('a', 'va2', [10, 1, 99])], false);
    expect(decodeDiscoveryResponse(serializeResponse({ body: changed, nonce: '1' })).resources[0]?.value).toEqual(Buffer.from([10, 1, 99]));
    expect(bodies.body(ROUTE_TYPE, 'v2', [a, b], true)).not.toBe(whole);
  });

  it('writes delta responses the same way, one body per resources and removals', () => {
    const bodies = new ResponseBodies('sluice');
    const body = bodies.deltaBody(ROUTE_TYPE, 's1', [a], ['gone']);
    expect(bodies.deltaBody(ROUTE_TYPE, 's1', [a], ['gone'])).toBe(body);
    expect(bodies.deltaBody(ROUTE_TYPE, 's1', [a], [])).not.toBe(body);
    expect(bodies.deltaBody(ROUTE_TYPE, 's1', [a, b], ['gone'])).not.toBe(body);
    // A state-of-the-world body of the same contents is another message.
    expect(bodies.body(ROUTE_TYPE, 's1', [a], false)).not.toBe(body);
    expect(decodeDeltaResponse(serializeResponse({ body, nonce: '42' }))).toEqual({
      system_version_info: 's1',
      resources: [
        { name: 'a', version: 'va', resource: { type_url: ROUTE_TYPE, value: Buffer.from(a.bytes) }, aliases: [], cache_control: null, metadata: null, resource_name: null, ttl: null },
      ],
      type_url: ROUTE_TYPE,
      removed_resources: ['gone'],
      removed_resource_names: [],
      nonce: '42',
      control_plane: { identifier: 'sluice' },
    });
  });

  it('keeps at most MAX_BODIES bodies, dropping the oldest first', () => {
    const bodies = new ResponseBodies('sluice');
    const first = bodies.body(ROUTE_TYPE, 'v0', [a], true);
    for (let i = 1; i <= MAX_BODIES; i++) bodies.body(ROUTE_TYPE, `v${i}`, [a], true);
    expect(bodies.body(ROUTE_TYPE, 'v0', [a], true)).not.toBe(first);
    expect(bodies.body(ROUTE_TYPE, `v${MAX_BODIES}`, [a], true)).toBe(bodies.body(ROUTE_TYPE, `v${MAX_BODIES}`, [a], true));
  });
});
