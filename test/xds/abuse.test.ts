// The xDS port against clients that abuse it, on the real gRPC server with scripted clients: load
// reports are kept only for clusters sluice serves the reporting node (an invented flood keeps
// nothing and is counted), each limit of the port ends the stream with its status and a message
// naming the setting (counted, logged once), a type the stream does not serve is logged once and
// short, and a client that stops reading holds a bounded number of responses.

import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadStats } from '../../src/fleet/load-stats.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { snapshotInput } from '../../src/sync/reconciler.js';
import { translate } from '../../src/translate/translate.js';
import { SnapshotCache } from '../../src/xds/cache.js';
import { DEFAULT_GROUP, XdsServer, type XdsServerOptions } from '../../src/xds/server/ads-server.js';
import { LRS_PATH, lrsDefinition, type LoadStatsRequest } from '../../src/xds/server/lrs.js';
import { Snapshot } from '../../src/xds/snapshot.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, PUSH_ORDER, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { service, state } from '../support/xds-harness.js';

interface Running {
  server: XdsServer;
  cache: SnapshotCache;
  fleet: FleetStatus;
  loads: LoadStats;
  address: string;
  /** Every log line so far, as written. */
  logs: string[];
  publish(revision: number, greenShare?: number, services?: number): void;
}

const open: { close(): void }[] = [];
let running: Running | undefined;

afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  await running?.server.close();
  running = undefined;
});

async function start(options: Partial<XdsServerOptions> = {}): Promise<Running> {
  const cache = new SnapshotCache();
  const fleet = new FleetStatus();
  const loads = new LoadStats();
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const server = new XdsServer({ cache, callbacks: fleet, logger, loadReports: loads, ...options });
  const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  let previous: Snapshot | undefined;
  const publish = (revision: number, greenShare = 0, services = 1): void => {
    const all = Array.from({ length: services }, (_, i) => service(i === 0 ? 'predict' : `svc${i}`, { blue: 100 - greenShare, green: greenShare }));
    for (const s of all) s.timeout = `${revision}s`;
    previous = Snapshot.build(snapshotInput(translate(state(revision, ...all))), previous).snapshot;
    cache.set(DEFAULT_GROUP, previous);
  };
  running = { server, cache, fleet, loads, address, logs, publish };
  return running;
}

function sotw(address: string): FakeEnvoy {
  const client = new FakeEnvoy(address);
  open.push(client);
  return client;
}

function delta(address: string): FakeDeltaEnvoy {
  const client = new FakeDeltaEnvoy(address);
  open.push(client);
  return client;
}

/** A load reporting client: sends what a test writes, records how the stream ended. */
class LrsClient {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<LoadStatsRequest, object>;
  error: grpc.ServiceError | undefined;
  /** sluice answered the first request (asked for every cluster). */
  answered = false;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    const method = lrsDefinition['StreamLoadStats']!;
    this.call = this.client.makeBidiStreamRequest(LRS_PATH, method.requestSerialize, method.responseDeserialize);
    this.call.on('data', () => (this.answered = true));
    this.call.on('error', (error: grpc.ServiceError) => (this.error = error));
    open.push(this);
  }

  send(request: LoadStatsRequest): void {
    this.call.write(request);
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

function clusterStats(cluster: string, successful: number, errors: number) {
  return {
    cluster_name: cluster,
    upstream_locality_stats: [{ total_successful_requests: successful, total_error_requests: errors, total_issued_requests: successful + errors }],
    load_report_interval: { seconds: 2 },
  };
}

/** An ADS client of `node` that has its clusters: sluice serves it predict_blue and predict_green. */
async function connectedProxy(address: string, node = NODE): Promise<FakeEnvoy> {
  const client = sotw(address);
  client.subscribe(CLUSTER_TYPE, [], node);
  expect((await client.next(5000)).type_url).toBe(CLUSTER_TYPE);
  return client;
}

/** Resolves with the error that ended the client's stream. */
async function refusal(client: FakeEnvoy | FakeDeltaEnvoy): Promise<grpc.ServiceError> {
  const error = await client.next(5000).then(
    () => undefined,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (error === undefined) throw new Error('the stream answered instead of ending');
  return error;
}

describe('load reports', () => {
  it('keep only clusters served to the reporting node: 100,000 invented names keep nothing and are counted, real ones count', async () => {
    const { address, loads, publish } = await start();
    publish(1);
    await connectedProxy(address);
    const lrs = new LrsClient(address);
    lrs.send({ node: NODE, cluster_stats: [clusterStats('predict_blue', 90, 10)] });
    for (let batch = 0; batch < 10; batch++) {
      lrs.send({ node: NODE, cluster_stats: Array.from({ length: 10_000 }, (_, i) => clusterStats(`invented-${batch}-${i}`, 1, 1)) });
    }
    // Requests on one stream are handled in order: once this one counts, every earlier one was handled.
    lrs.send({ node: NODE, cluster_stats: [clusterStats('predict_green', 5, 5)] });
    await expect.poll(() => loads.totals('predict_green', 0), { timeout: 10_000 }).toEqual({ requests: 10, errors: 5 });

    expect(loads.totals('predict_blue', 0)).toEqual({ requests: 100, errors: 10 });
    expect(loads.kept()).toEqual({ samples: 2, proxies: 1, clusters: 2 });
    expect(loads.isReported('invented-0-0')).toBe(false);
    expect(loads.droppedReports().get('unknown-cluster')).toBe(100_000);
    expect(lrs.error).toBeUndefined();
  });

  it('from a node with no xDS stream here, or for a cluster its snapshot lacks, are dropped', async () => {
    const { address, loads, publish } = await start();
    publish(1);
    await connectedProxy(address);
    const stranger = new LrsClient(address);
    stranger.send({ node: { ...NODE, id: 'stranger' }, cluster_stats: [clusterStats('predict_blue', 1000, 1000)] });
    await expect.poll(() => loads.droppedReports().get('unknown-cluster'), { timeout: 5000 }).toBe(1);
    const proxy = new LrsClient(address);
    proxy.send({ node: NODE, cluster_stats: [clusterStats('predict_purple', 3, 3)] });
    await expect.poll(() => loads.droppedReports().get('unknown-cluster'), { timeout: 5000 }).toBe(2);
    expect(loads.kept().samples).toBe(0);
    expect(loads.totals('predict_blue', 0)).toEqual({ requests: 0, errors: 0 });
  });

  it('with more clusters than resource names allowed end the stream with INVALID_ARGUMENT', async () => {
    const { address, server, publish } = await start({ limits: { maxResourceNames: 3 } });
    publish(1);
    const lrs = new LrsClient(address);
    lrs.send({ node: NODE, cluster_stats: ['a', 'b', 'c', 'd'].map((name) => clusterStats(name, 1, 0)) });
    await expect.poll(() => lrs.error?.code, { timeout: 5000 }).toBe(grpc.status.INVALID_ARGUMENT);
    expect(lrs.error?.details).toBe('a request names 4 resources; at most 3 (--xds-max-resource-names)');
    expect(server.refusals().get('resource-names')).toBe(1);
    expect(server.admittedStreams()).toBe(0);
  });
});

describe('limits of the xDS port', () => {
  it('refuse a stream past the total with RESOURCE_EXHAUSTED, and admit one again once a stream ends', async () => {
    const { address, server, publish, logs } = await start({ limits: { maxStreams: 2, maxStreamsPerPeer: 10 } });
    publish(1);
    const first = await connectedProxy(address, { ...NODE, id: 'a' });
    await connectedProxy(address, { ...NODE, id: 'b' });
    for (const id of ['c', 'd', 'e']) {
      const refused = sotw(address);
      refused.subscribe(CLUSTER_TYPE, [], { ...NODE, id });
      expect(await refusal(refused)).toMatchObject({
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: 'sluice serves at most 2 xDS streams at once (--xds-max-streams)',
      });
    }
    expect(server.refusals().get('streams')).toBe(3);
    // Logged once for the burst, saying how many it stands for.
    const lines = logs.filter((line) => line.includes('xDS stream refused'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ limit: 'streams', peer: '127.0.0.1', refused: 1 });

    first.close();
    await expect.poll(() => server.admittedStreams(), { timeout: 5000 }).toBe(1);
    await connectedProxy(address, { ...NODE, id: 'f' });
  });

  it('refuse a stream past the per-address limit with RESOURCE_EXHAUSTED, load reporting streams included', async () => {
    const { address, server, publish } = await start({ limits: { maxStreams: 10, maxStreamsPerPeer: 2 } });
    publish(1);
    await connectedProxy(address, { ...NODE, id: 'a' });
    const lrs = new LrsClient(address);
    lrs.send({ node: { ...NODE, id: 'a' } });
    await expect.poll(() => lrs.answered, { timeout: 5000 }).toBe(true);
    const refused = sotw(address);
    refused.subscribe(CLUSTER_TYPE, [], { ...NODE, id: 'b' });
    expect(await refusal(refused)).toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: 'sluice serves at most 2 xDS streams at once from one address (--xds-max-streams-per-peer)',
    });
    expect(server.refusals().get('streams-per-peer')).toBe(1);
  });

  it('refuse a node id or cluster longer than allowed with INVALID_ARGUMENT, before the node is known', async () => {
    const { address, server, publish, fleet } = await start({ limits: { maxNodeFieldBytes: 16 } });
    publish(1);
    const longId = sotw(address);
    longId.subscribe(CLUSTER_TYPE, [], { ...NODE, id: 'x'.repeat(17) });
    expect(await refusal(longId)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'node.id is longer than 16 bytes (--xds-max-node-bytes)' });
    const longCluster = delta(address);
    // Bytes, not characters: 6 two-byte characters are 12 bytes.
    longCluster.send({ node: { ...NODE, id: 'é'.repeat(8), cluster: 'é'.repeat(9) }, type_url: CLUSTER_TYPE });
    expect(await refusal(longCluster)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'node.cluster is longer than 16 bytes (--xds-max-node-bytes)' });
    expect(Object.fromEntries(server.refusals())).toMatchObject({ 'node-id-length': 1, 'node-cluster-length': 1 });
    expect(fleet.list()).toEqual([]);
    await connectedProxy(address, { ...NODE, id: 'x'.repeat(16) });
  });

  it('refuse a request naming more resources than allowed with INVALID_ARGUMENT (SotW names; delta subscribe, unsubscribe and initial versions)', async () => {
    const { address, server, publish } = await start({ limits: { maxResourceNames: 3 } });
    publish(1);
    const client = await connectedProxy(address);
    client.subscribe(ENDPOINT_TYPE, ['a', 'b', 'c', 'd']);
    expect(await refusal(client)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'a request names 4 resources; at most 3 (--xds-max-resource-names)' });
    const deltaClient = delta(address);
    deltaClient.send({
      node: NODE,
      type_url: ENDPOINT_TYPE,
      resource_names_subscribe: ['a', 'b'],
      initial_resource_versions: { a: '1', c: '2' },
    });
    expect(await refusal(deltaClient)).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'a request names 4 resources; at most 3 (--xds-max-resource-names)' });
    expect(server.refusals().get('resource-names')).toBe(2);
    const withinLimit = await connectedProxy(address, { ...NODE, id: 'other' });
    withinLimit.subscribe(ENDPOINT_TYPE, ['predict_blue', 'predict_green', 'absent']);
    expect((await withinLimit.next(5000)).type_url).toBe(ENDPOINT_TYPE);
  });

  it('refuse a delta stream whose subscriptions of one type add up past the names limit', async () => {
    const { address, server, publish } = await start({ limits: { maxResourceNames: 5 } });
    publish(1);
    const client = delta(address);
    client.send({ node: NODE, type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue', 'a', 'b'] });
    expect((await client.next(5000)).type_url).toBe(ENDPOINT_TYPE);
    client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: ['c', 'd'], resource_names_unsubscribe: ['a'] });
    // c and d do not exist: the answer says so (five names now).
    expect((await client.next(5000)).removed_resources).toEqual(['c', 'd']);
    client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: ['e', 'f'] });
    expect(await refusal(client)).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'a stream subscribes to 6 resources of one type; at most 5 (--xds-max-resource-names)',
    });
    expect(server.refusals().get('resource-names')).toBe(1);
  });

  it('refuse a request larger than the largest allowed with RESOURCE_EXHAUSTED', async () => {
    const { address, server, publish } = await start({ maxRequestBytes: 1024 });
    publish(1);
    const client = await connectedProxy(address);
    client.subscribe(ENDPOINT_TYPE, ['x'.repeat(2000)]);
    const error = await refusal(client);
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.details).toMatch(/^Received message larger than max \(\d+ vs 1024\)$/);
    await expect.poll(() => server.admittedStreams(), { timeout: 5000 }).toBe(0);
  });
});

describe('a type the stream does not serve', () => {
  it('is ignored and logged once per stream, its type URL cut short, never the request', async () => {
    const { address, publish, logs } = await start();
    publish(1);
    const client = await connectedProxy(address);
    const typeUrl = `type.googleapis.com/${'x'.repeat(10_000)}`;
    for (let i = 0; i < 1000; i++) client.send({ type_url: `${typeUrl}${i}`, resource_names: ['secret-name'], node: NODE });
    client.subscribe(ENDPOINT_TYPE, ['predict_blue']);
    // Handled in order: once the endpoints arrive, every request before them was handled.
    expect((await client.next(5000)).type_url).toBe(ENDPOINT_TYPE);
    const lines = logs.filter((line) => line.includes('does not serve'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(400);
    expect(lines[0]).not.toContain('secret-name');
    expect(JSON.parse(lines[0]!)).toMatchObject({ node: NODE.id, typeUrlLength: typeUrl.length + 1 });
    expect(logs.join('').length).toBeLessThan(2000);
  });
});

describe('a NACK', () => {
  it('reaches the log cut short, and the fleet whole', async () => {
    const { address, publish, logs, fleet } = await start();
    publish(1);
    const client = await connectedProxy(address);
    client.subscribe(ENDPOINT_TYPE, ['predict_blue']);
    const response = await client.next(5000);
    const message = 'bad endpoint '.repeat(10_000);
    client.send({ type_url: ENDPOINT_TYPE, response_nonce: response.nonce, resource_names: ['predict_blue'], error_detail: { code: 3, message } });
    await expect.poll(() => fleet.list()[0]?.types[ENDPOINT_TYPE]?.lastNack?.message, { timeout: 5000 }).toBe(message);
    const lines = logs.filter((line) => line.includes('"NACK"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(2500);
    expect(JSON.parse(lines[0]!).error).toMatch(/… \(130000 characters\)$/);
  });
});

describe('a client that stops reading', () => {
  it('holds at most a few responses however many snapshots pass, and then gets the latest', async () => {
    const { address, server, publish, fleet } = await start();
    publish(1, 0, 300);
    const client = sotw(address);
    client.subscribe(CLUSTER_TYPE, [], NODE);
    client.subscribe(ROUTE_TYPE, ['default']);
    await client.ackUntil(() => client.heldNames(ROUTE_TYPE).length === 1, { names: { [ROUTE_TYPE]: ['default'] } });
    client.pause();
    const sentBefore = fleet.counters.responses;
    for (let revision = 2; revision <= 40; revision++) {
      publish(revision, revision % 100, 300);
      // Let gRPC move bytes between snapshots, as it would between real commits.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.peakPendingResponses()).toBeGreaterThan(0);
    // One response per resource type at most (gRPC alone would queue 16 before saying it is full).
    expect(server.peakPendingResponses()).toBeLessThanOrEqual(PUSH_ORDER.length);
    const sentWhilePaused = fleet.counters.responses - sentBefore;
    expect(sentWhilePaused).toBeLessThan(50);

    client.resume();
    publish(41, 50, 300);
    const latest = running!.cache.get(DEFAULT_GROUP)!.type(CLUSTER_TYPE).version;
    await client.ackUntil(() => client.ackedVersion(CLUSTER_TYPE) === latest, { names: { [ROUTE_TYPE]: ['default'] }, timeoutMs: 20_000 });
  }, 60_000);
});
