// A scripted ADS client for protocol tests: opens a state-of-the-world stream to sluice with
// @grpc/grpc-js, sends exactly the requests a test writes, and queues every response so a test
// can await the next one or assert that none arrives. Never used instead of a real Envoy.

import * as grpc from '@grpc/grpc-js';
import {
  decodeDiscoveryResponse,
  encodeDiscoveryRequest,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../../src/xds/server/messages.js';

const ADS_SOTW = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

export class FakeEnvoy {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private readonly queue: DiscoveryResponse[] = [];
  private waiter: (() => void) | undefined;
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(address: string, options: { paused?: boolean } = {}) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.call = this.client.makeBidiStreamRequest(ADS_SOTW, encodeDiscoveryRequest, decodeDiscoveryResponse);
    this.call.on('data', (response: DiscoveryResponse) => {
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
    if (options.paused) this.call.pause();
  }

  send(request: DiscoveryRequest): void {
    this.call.write(request);
  }

  /** Requests `typeUrl` as Envoy does on a new stream (the node on the first request only). */
  subscribe(typeUrl: string, names: string[] = [], node?: DiscoveryRequest['node']): void {
    this.send({ type_url: typeUrl, resource_names: names, ...(node ? { node } : {}) });
  }

  ack(response: DiscoveryResponse, names: string[] = []): void {
    this.send({ type_url: response.type_url, version_info: response.version_info, response_nonce: response.nonce, resource_names: names });
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

  /** The next response, waiting up to `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<DiscoveryResponse> {
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

  /** Asserts nothing arrives for `ms` (returns what did arrive, for the test to show). */
  async quiet(ms = 200): Promise<DiscoveryResponse[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.queue.splice(0);
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export const NODE = { id: 'fake-envoy', cluster: 'fake', user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 0 } } };
