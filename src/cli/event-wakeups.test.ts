import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventWakeups } from './event-wakeups.js';
import { AdminClient } from './http-client.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A server whose /v1/events is a stream the test writes to (or a 404 when `stream` is false). */
async function serve(stream: boolean): Promise<{ client: AdminClient; connected: Promise<ServerResponse> }> {
  let connected!: (response: ServerResponse) => void;
  const opened = new Promise<ServerResponse>((resolve) => (connected = resolve));
  server = createServer((_request, response) => {
    if (!stream) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"SLUICE_NOT_FOUND","message":"no"}}');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(': hello\n\n');
    connected(response);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { client: new AdminClient(`http://127.0.0.1:${port}`, undefined), connected: opened };
}

describe('EventWakeups', () => {
  it('wakes at the next event, not at the end of its wait; a comment line wakes nothing', async () => {
    const { client, connected } = await serve(true);
    const wakeups = await EventWakeups.open(client, '/v1/events', 60_000);
    const response = await connected;
    expect(wakeups.live).toBe(true);
    let woke = false;
    const waiting = wakeups.next(60_000).then(() => (woke = true));
    response.write(': keepalive\n\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(woke).toBe(false);
    response.write('id: 1\nevent: revision\ndata: {"type":"revision"}\n\n');
    await waiting;
    // Every later event wakes the next wait too.
    response.write('id: 2\nevent: ack\ndata: {"type":"ack"}\n\n');
    await wakeups.next(60_000);
    wakeups.close();
  }, 10_000);

  it('without an event stream it only waits (polling), and so it does once the stream ends', async () => {
    const missing = await serve(false);
    const polling = await EventWakeups.open(missing.client, '/v1/events', 5);
    expect(polling.live).toBe(false);
    await polling.next(60_000);
    polling.close();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;

    const { client, connected } = await serve(true);
    const wakeups = await EventWakeups.open(client, '/v1/events', 5);
    (await connected).end();
    await wakeups.next(60_000);
    expect(wakeups.live).toBe(false);
    await wakeups.next(60_000);
    wakeups.close();
  }, 10_000);
});
