import { describe, expect, it } from 'vitest';
import { PUSH_ORDER, isResourceTypeUrl } from './type-urls.js';

describe('isResourceTypeUrl', () => {
  it('knows the four served types and nothing else, not even names every object has', () => {
    expect(PUSH_ORDER.every(isResourceTypeUrl)).toBe(true);
    for (const other of ['', 'toString', '__proto__', 'constructor', 'type.googleapis.com/envoy.config.listener.v3.Listenerx', 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret']) {
      expect(isResourceTypeUrl(other)).toBe(false);
    }
  });
});
