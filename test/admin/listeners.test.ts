// Listener routes through inject(): read, create, move, port conflicts and in-use deletes.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHarness, predictBody, send, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe('listeners', () => {
  it('lists and reads the default listener from the initial state', async () => {
    const list = await send(h.app, 'GET', '/v1/listeners');
    expect(list.statusCode).toBe(200);
    expect(list.headers['etag']).toBe('"0"');
    expect(list.json()).toEqual({ revision: 0, listeners: [{ name: 'default', address: '0.0.0.0', port: 8080 }] });
    expect((await send(h.app, 'GET', '/v1/listeners/default')).json()).toEqual({
      revision: 0,
      name: 'default',
      address: '0.0.0.0',
      port: 8080,
    });
    const missing = await send(h.app, 'GET', '/v1/listeners/edge');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('SLUICE_LISTENER_NOT_FOUND');
  });

  it('creates a listener with the default address, then moves it', async () => {
    const created = await send(h.app, 'PUT', '/v1/listeners/edge', { port: 8443 });
    expect(created.statusCode).toBe(200);
    expect(created.headers['etag']).toBe('"1"');
    expect(created.json()).toEqual({ revision: 1, name: 'edge', address: '0.0.0.0', port: 8443 });
    const moved = await send(h.app, 'PUT', '/v1/listeners/edge', { name: 'edge', port: 9443, address: '127.0.0.1' }, { 'if-match': '1' });
    expect(moved.json()).toEqual({ revision: 2, name: 'edge', address: '127.0.0.1', port: 9443 });
    const names = (await send(h.app, 'GET', '/v1/listeners')).json().listeners.map((l: { name: string }) => l.name);
    expect(names).toEqual(['default', 'edge']);
  });

  it('refuses a port another listener binds', async () => {
    const res = await send(h.app, 'PUT', '/v1/listeners/edge', { port: 8080, address: '127.0.0.1' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'SLUICE_PORT_CONFLICT', path: '/port' });
    expect(h.store.current().revision).toBe(0);
  });

  it('refuses to delete a listener in use, and deletes it once its services are gone', async () => {
    await send(h.app, 'PUT', '/v1/services/predict', predictBody());
    const refused = await send(h.app, 'DELETE', '/v1/listeners/default');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('SLUICE_LISTENER_IN_USE');
    expect(h.store.current().listeners['default']).toBeDefined();

    await send(h.app, 'DELETE', '/v1/services/predict');
    const deleted = await send(h.app, 'DELETE', '/v1/listeners/default');
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ revision: 3, name: 'default', address: '0.0.0.0', port: 8080 });
    expect((await send(h.app, 'GET', '/v1/listeners')).json()).toEqual({ revision: 3, listeners: [] });
  });
});
