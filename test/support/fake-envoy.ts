// Scripted ADS clients for protocol tests: open a state-of-the-world or delta stream to sluice with
// @grpc/grpc-js, send exactly the requests a test writes, queue every response so a test can
// await the next one, and remember what the client holds once it ACKed, so a test can ACK until
// it holds an expected state. Never used instead of a real Envoy.

import * as grpc from '@grpc/grpc-js';
import { decodeMessage } from '../../src/xds/codec.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, messageNameOf } from '../../src/xds/type-urls.js';
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
const DEFAULT_WAIT_MS = 5000;

/** A resource the client holds: its version (delta) or its type's version (SotW), and its bytes. */
export interface HeldResource {
  version: string;
  bytes: Uint8Array;
}

/** The name a resource is known by (ClusterLoadAssignments by their cluster name). */
function resourceName(typeUrl: string, bytes: Uint8Array): string {
  const decoded = decodeMessage(messageNameOf(typeUrl), bytes);
  return String(typeUrl === ENDPOINT_TYPE ? decoded['cluster_name'] : decoded['name']);
}

/** A bidi stream whose responses are queued for a test to await. */
class ScriptedStream<Request, Response> {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Request, Response>;
  private readonly queue: Response[] = [];
  private waiter: (() => void) | undefined;
  /** What the client holds after its ACKs, per type URL and name. */
  protected readonly holding = new Map<string, Map<string, HeldResource>>();
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(
    address: string,
    path: string,
    serialize: (request: Request) => Buffer,
    deserialize: (buffer: Buffer) => Response,
    credentials: grpc.ChannelCredentials,
  ) {
    this.client = new grpc.Client(address, credentials);
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

  /**
   * Negative check: waits `ms` and returns whatever arrived meanwhile, which a test expects to be
   * nothing. Never use it to wait for something to happen; wait for the expected state instead.
   */
  async noResponseWithin(ms: number): Promise<Response[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.queue.splice(0);
  }

  /** Names the client holds for `typeUrl`, sorted. */
  heldNames(typeUrl: string): string[] {
    return [...(this.holding.get(typeUrl)?.keys() ?? [])].sort();
  }

  held(typeUrl: string, name: string): HeldResource | undefined {
    return this.holding.get(typeUrl)?.get(name);
  }

  /** A held resource decoded (e.g. a route configuration to read its weights). */
  heldResource(typeUrl: string, name: string): Record<string, any> | undefined {
    const held = this.held(typeUrl, name);
    return held && decodeMessage(messageNameOf(typeUrl), held.bytes);
  }

  /** What the client holds, for failure messages. */
  describeHeld(): string {
    return JSON.stringify(Object.fromEntries([...this.holding].map(([typeUrl, held]) => [typeUrl.split('.').at(-1), Object.fromEntries([...held].map(([name, r]) => [name, r.version]))])));
  }

  /**
   * ACKs every response (with `ack`) until `done()` holds, failing loudly if it does not within
   * `timeoutMs`. Checks `done()` before waiting, so it returns at once when it already holds.
   */
  protected async ackWhile(done: () => boolean, ack: (response: Response) => void, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      const response = left > 0 ? await this.next(left).catch(() => undefined) : undefined;
      if (response === undefined) {
        if (this.error) throw this.error;
        throw new Error(`the client did not come to hold ${what} within ${timeoutMs} ms; it holds ${this.describeHeld()}`);
      }
      ack(response);
    }
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

export interface AckOptions {
  /** Resource names to name when ACKing each type (SotW requests carry the subscription); default none. */
  names?: Partial<Record<string, string[]>>;
  timeoutMs?: number;
}

export class FakeEnvoy extends ScriptedStream<DiscoveryRequest, DiscoveryResponse> {
  /** SotW version the client ACKed last, per type URL. */
  private readonly versions = new Map<string, string>();

  /**
   * `method` defaults to ADS; e.g. `envoy.service.route.v3.RouteDiscoveryService/StreamRoutes` for a per-type stream.
   * `credentials` default to plaintext.
   */
  constructor(address: string, method = `${ADS}/StreamAggregatedResources`, credentials = grpc.credentials.createInsecure()) {
    super(address, method.startsWith('/') ? method : `/${method}`, encodeDiscoveryRequest, decodeDiscoveryResponse, credentials);
  }

  /** Requests `typeUrl` as Envoy does on a new stream (the node on the first request only). */
  subscribe(typeUrl: string, names: string[] = [], node?: DiscoveryRequest['node']): void {
    this.send({ type_url: typeUrl, resource_names: names, ...(node ? { node } : {}) });
  }

  /** ACKs and, like Envoy, applies the response: listeners and clusters are replaced, routes and endpoints merged. */
  ack(response: DiscoveryResponse, names: string[] = []): void {
    this.send({ type_url: response.type_url, version_info: response.version_info, response_nonce: response.nonce, resource_names: names });
    const full = response.type_url === LISTENER_TYPE || response.type_url === CLUSTER_TYPE;
    const held = full ? new Map<string, HeldResource>() : (this.holding.get(response.type_url) ?? new Map<string, HeldResource>());
    for (const resource of response.resources) {
      held.set(resourceName(response.type_url, resource.value), { version: response.version_info, bytes: resource.value });
    }
    this.holding.set(response.type_url, held);
    this.versions.set(response.type_url, response.version_info);
  }

  /** The version the client last ACKed for `typeUrl`. */
  ackedVersion(typeUrl: string): string | undefined {
    return this.versions.get(typeUrl);
  }

  /** ACKs every response until `done()` holds; fails after `timeoutMs` (default 5 s) otherwise. */
  async ackUntil(done: () => boolean, options: AckOptions = {}): Promise<void> {
    await this.ackWhile(
      done,
      (response) => this.ack(response, options.names?.[response.type_url] ?? []),
      options.timeoutMs ?? DEFAULT_WAIT_MS,
      'what the test expected',
    );
  }

  /** ACKs every response until the client's ACKed version of each given type is the expected one. */
  async ackUntilVersions(expected: Partial<Record<string, string>>, options: AckOptions = {}): Promise<void> {
    const done = (): boolean => Object.entries(expected).every(([typeUrl, version]) => this.versions.get(typeUrl) === version);
    await this.ackWhile(
      done,
      (response) => this.ack(response, options.names?.[response.type_url] ?? []),
      options.timeoutMs ?? DEFAULT_WAIT_MS,
      `the versions ${JSON.stringify(expected)}`,
    );
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
  /** `method` defaults to ADS; e.g. `envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes` for a per-type stream. */
  constructor(address: string, method = `${ADS}/DeltaAggregatedResources`, credentials = grpc.credentials.createInsecure()) {
    super(address, method.startsWith('/') ? method : `/${method}`, encodeDeltaRequest, decodeDeltaResponse, credentials);
  }

  /** ACKs and applies the response: its resources are held, its removed_resources dropped. */
  ack(response: DeltaDiscoveryResponse): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce });
    const held = this.holding.get(response.type_url) ?? new Map<string, HeldResource>();
    for (const resource of response.resources) held.set(resource.name, { version: resource.version, bytes: resource.resource.value });
    for (const name of response.removed_resources) held.delete(name);
    this.holding.set(response.type_url, held);
  }

  /** Versions the client holds for `typeUrl`, by name (as `initial_resource_versions` on a reconnect). */
  heldVersions(typeUrl: string): Record<string, string> {
    return Object.fromEntries([...(this.holding.get(typeUrl) ?? [])].map(([name, r]) => [name, r.version]));
  }

  /** ACKs every response until `done()` holds; fails after `timeoutMs` (default 5 s) otherwise. */
  async ackUntil(done: () => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.ackWhile(done, (response) => this.ack(response), timeoutMs, 'what the test expected');
  }

  nack(response: DeltaDiscoveryResponse, message: string): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce, error_detail: { code: 3, message } });
  }
}

export const NODE = { id: 'fake-envoy', cluster: 'fake', user_agent_name: 'envoy', user_agent_build_version: { version: { major_number: 1, minor_number: 40, patch: 0 } } };
