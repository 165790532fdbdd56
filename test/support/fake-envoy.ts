// Scripted ADS clients for protocol tests: open a state-of-the-world or delta stream to sluice with
// @grpc/grpc-js, sends exactly the requests a test writes, and queues every response so a test
// can await the next one or assert that none arrives. Never used instead of a real Envoy.

import * as grpc from '@grpc/grpc-js';
import { ROUTE_TYPE } from '../../src/xds/type-urls.js';
import {
  decodeDeltaResponse,
  decodeDiscoveryResponse,
  encodeDeltaRequest,
  encodeDiscoveryRequest,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../src/xds/server/messages.js';

const ADS = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** A bidi stream whose responses are queued for a test to await. */
class ScriptedStream<Request, Response> {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Request, Response>;
  private readonly queue: Response[] = [];
  private waiter: (() => void) | undefined;
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(
    address: string,
    path: string,
    serialize: (request: Request) => Buffer,
    deserialize: (buffer: Buffer) => Response,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(path, serialize, deserialize);
    this.call.on('data', (response: Response) => {
      this.queue.push(response);
      this.waiter?.();
    });
    this.call.on('error', (error: grpc.ServiceError) => {
      this.error = error;
      this.waiter?.();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  send(request: Request): void {
    this.call.write(request);
  }

  /** The next response, waiting up to `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.error) throw this.error;
      if (this.ended) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }

  /** Waits `ms` and returns whatever arrived meanwhile (a test usually expects nothing). */
  async quiet(ms = 200): Promise<Response[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.queue.splice(0);
  }

  /** Stops reading: the transport's buffers fill up and sluice must hold back. */
  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export class FakeEnvoy extends ScriptedStream<DiscoveryRequest, DiscoveryResponse> {
  /** `method` defaults to ADS; e.g. `envoy.service.route.v3.RouteDiscoveryService/StreamRoutes` for a per-type stream. */
  constructor(address: string, method = `${ADS}/StreamAggregatedResources`) {
    super(address, method.startsWith('/') ? method : `/${method}`, encodeDiscoveryRequest, decodeDiscoveryResponse);
  }

  /** Requests `typeUrl` as Envoy does on a new stream (the node on the first request only). */
  subscribe(typeUrl: string, names: string[] = [], node?: DiscoveryRequest['node']): void {
    this.send({ type_url: typeUrl, resource_names: names, ...(node ? { node } : {}) });
  }

  ack(response: DiscoveryResponse, names: string[] = []): void {
    this.send({ type_url: response.type_url, version_info: response.version_info, response_nonce: response.nonce, resource_names: names });
  }

  /** ACKs every response until none came for 300 ms; route responses are ACKed naming `routeNames`. */
  async ackUntilQuiet(routeNames: string[] = []): Promise<void> {
    for (;;) {
      const response = await this.next(300).catch(() => undefined);
      if (response === undefined) return;
      this.ack(response, response.type_url === ROUTE_TYPE ? routeNames : []);
    }
  }

  nack(response: DiscoveryResponse, lastGoodVersion: string, message: string, names: string[] = []): void {
    this.send({
      type_url: response.type_url,
      version_info: lastGoodVersion,
      response_nonce: response.nonce,
      resource_names: names,
      error_detail: { code: 3, message },
    });
  }

}

export class FakeDeltaEnvoy extends ScriptedStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  constructor(address: string) {
    super(address, `/${ADS}/DeltaAggregatedResources`, encodeDeltaRequest, decodeDeltaResponse);
  }

  ack(response: DeltaDiscoveryResponse): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce });
  }

  nack(response: DeltaDiscoveryResponse, message: string): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce, error_detail: { code: 3, message } });
  }
}

export const NODE = { id: 'fake-envoy', cluster: 'fake', user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 0 } } };
