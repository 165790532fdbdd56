// GET /v1/events through the composition root, with a scripted ADS client instead of Envoy:
// commits, rollout decisions, a proxy's connection and its ACKs arrive as Server-Sent Events in
// order; a client that comes back with Last-Event-ID (or ?since=) gets exactly what it missed;
// reads need the token with --admin-auth-reads; a stream ends when its client leaves or sluice stops.

import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type SluiceConfig } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { SseReader, type SseEvent } from '../support/sse.js';
import { predictBody } from './harness.js';

const EDS_NAMES = ['predict_blue', 'predict_green'];
const NAMES: { names: Partial<Record<string, string[]>> } = { names: { [ENDPOINT_TYPE]: EDS_NAMES, [ROUTE_TYPE]: ['default'] } };
const TOKEN = 'events-test-token-0123456789';

let sluice: RunningSluice;
let envoy: FakeEnvoy | undefined;
const readers: SseReader[] = [];

async function start(config: Partial<SluiceConfig> = {}): Promise<void> {
  sluice = await startSluice({ ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:', ...config }, pino({ level: 'silent' }));
}

async function open(query = '', headers: Record<string, string> = {}): Promise<SseReader> {
  const reader = await SseReader.open(`${sluice.adminUrl}/v1/events${query}`, headers);
  readers.push(reader);
  return reader;
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sluice.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

/** The weights of the predict split in the route the client holds. */
function splitWeights(client: FakeEnvoy): string | undefined {
  const route = client.heldResource(ROUTE_TYPE, 'default');
  const split = route?.['virtual_hosts']?.[0]?.['routes']?.find((r: any) => r.name === 'predict_split');
  return split?.route.weighted_clusters.clusters.map((c: any) => c.weight.value).join();
}

/** A scripted Envoy that has ACKed the current state with the predict service in it. */
async function connectedEnvoy(): Promise<FakeEnvoy> {
  const client = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
  client.subscribe(CLUSTER_TYPE, [], NODE);
  client.subscribe(ENDPOINT_TYPE, EDS_NAMES);
  client.subscribe(LISTENER_TYPE);
  client.subscribe(ROUTE_TYPE, ['default']);
  await client.ackUntil(() => splitWeights(client) !== undefined && client.heldNames(ENDPOINT_TYPE).join() === EDS_NAMES.join(), NAMES);
  return client;
}

/** Sets the weights and waits until the scripted Envoy holds them and sluice reports the revision applied. */
async function moveWeights(client: FakeEnvoy, green: number): Promise<number> {
  const put = await call('PUT', '/v1/services/predict/weights', { blue: 100 - green, green });
  expect(put.status).toBe(200);
  const revision = ((await put.json()) as { revision: number }).revision;
  await client.ackUntil(() => splitWeights(client) === `${(100 - green) * 100},${green * 100}`, NAMES);
  const report = (await (await call('GET', `/v1/revisions/${revision}?wait=10s`)).json()) as { complete: boolean };
  expect(report.complete).toBe(true);
  return revision;
}

afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  envoy?.close();
  envoy = undefined;
  await sluice.stop();
});

describe('with a scripted Envoy', () => {
  beforeEach(async () => {
    await start();
    expect((await call('PUT', '/v1/services/predict', predictBody())).status).toBe(200);
  });

  it('streams a proxy connecting, then a weights change as its revision followed by the ACKs of it', async () => {
    const reader = await open();
    envoy = await connectedEnvoy();
    expect(await reader.next((e) => e.event === 'proxy-connected')).toMatchObject({
      data: { type: 'proxy-connected', node: NODE.id, cluster: NODE.cluster, envoyVersion: '1.40.0', transport: 'sotw', aggregated: true },
    });

    const revision = await moveWeights(envoy, 30);
    const change = await reader.next((e) => e.event === 'revision');
    expect(change.data).toMatchObject({ type: 'revision', revision, actor: 'admin', change: 'setWeights', service: 'predict', summary: 'set weights of predict (stable blue): blue 70, green 30' });
    expect(Date.parse(String(change.data['at']))).not.toBeNaN();
    // After the revision: the client's ACK of the routes that carry the new weights.
    const routesAck = await reader.next((e) => e.event === 'ack' && e.data['resourceType'] === 'routes' && e.data['version'] === envoy!.ackedVersion(ROUTE_TYPE));
    expect(routesAck.data).toMatchObject({ type: 'ack', node: NODE.id, cluster: NODE.cluster });
    expect(routesAck.id).toBeGreaterThan(change.id!);
    // Ids rise by one, event after event.
    const ids = reader.events.map((e) => e.id);
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
  });

  it('streams each rollout decision with a readable message', async () => {
    envoy = await connectedEnvoy();
    const reader = await open('?types=rollout');
    const started = await call('POST', '/v1/services/predict/rollouts', { candidate: 'green', steps: [{ weight: 20, hold: '1m' }], analysis: { interval: '10s', metrics: [] } });
    expect(started.status).toBe(201);
    expect((await reader.next()).data).toMatchObject({ type: 'rollout', service: 'predict', candidate: 'green', event: 'started', step: 0, message: 'step 0 started' });
    // The controller's first decision moves traffic to the first step.
    expect((await reader.next()).data).toMatchObject({ type: 'rollout', event: 'weights-set', weights: { blue: 80, green: 20 }, actor: 'rollout', message: 'step 0 weights-set blue 80, green 20' });
    expect((await call('POST', '/v1/services/predict/rollout/abort', { reason: 'alarm from X' })).status).toBe(200);
    const aborted = await reader.next((e) => e.data['event'] === 'aborted');
    expect(aborted.data).toMatchObject({ phase: 'aborted', reason: 'alarm from X', actor: 'admin' });
    expect(aborted.data['message']).toContain('— alarm from X');
    expect(reader.events.every((e) => e.event === 'rollout')).toBe(true);
  });

  it('gives a client coming back with Last-Event-ID exactly the events it missed, ACKs included', async () => {
    envoy = await connectedEnvoy();
    const steady = await open();
    const leaving = await open();
    await moveWeights(envoy, 10);
    const lastSeen = (await leaving.next((e) => e.event === 'ack' && e.data['version'] === envoy!.ackedVersion(ROUTE_TYPE))).id!;
    leaving.close();
    await moveWeights(envoy, 20);
    await moveWeights(envoy, 40);
    const newest = (await steady.next((e) => e.event === 'ack' && e.data['version'] === envoy!.ackedVersion(ROUTE_TYPE))).id!;

    const missed = (from: SseReader): Promise<SseEvent[]> => from.next((e) => e.id === newest).then(() => from.events.filter((e) => e.id! > lastSeen && e.id! <= newest));
    const expected = steady.events.filter((e) => e.id! > lastSeen && e.id! <= newest);
    expect(expected.filter((e) => e.event === 'revision')).toHaveLength(2);
    expect(expected.filter((e) => e.event === 'ack').length).toBeGreaterThanOrEqual(2);

    const back = await open('', { 'last-event-id': String(lastSeen) });
    expect(await missed(back)).toEqual(expected);
    expect(back.events[0]!.id).toBe(lastSeen + 1);
    // For tools that cannot send the header; the header wins over a stale ?since= (EventSource keeps its URL).
    const bySince = await open(`?since=${lastSeen}`);
    expect(await missed(bySince)).toEqual(expected);
    const both = await open('?since=1', { 'last-event-id': String(lastSeen) });
    expect(await missed(both)).toEqual(expected);
    expect(both.events[0]!.id).toBe(lastSeen + 1);
  });

  it('streams a NACK with Envoy\'s message and the service that changed in the rejected version', async () => {
    envoy = await connectedEnvoy();
    const reader = await open('?types=nack&service=predict');
    expect((await call('PUT', '/v1/services/predict/weights', { blue: 60, green: 40 })).status).toBe(200);
    let routes = await envoy.next();
    while (routes.type_url !== ROUTE_TYPE) {
      envoy.ack(routes, NAMES.names[routes.type_url] ?? []);
      routes = await envoy.next();
    }
    envoy.nack(routes, envoy.ackedVersion(ROUTE_TYPE)!, 'route: invalid regex', ['default']);
    expect((await reader.next()).data).toMatchObject({
      type: 'nack',
      node: NODE.id,
      resourceType: 'routes',
      version: routes.version_info,
      message: 'route: invalid regex',
      services: ['predict'],
      listeners: [],
    });
  });

  it('keeps only events about the service asked for', async () => {
    expect((await call('PUT', '/v1/services/rank', { ...predictBody(), match: { prefix: '/rank' } })).status).toBe(200);
    const reader = await open('?service=rank&since=0');
    expect((await call('PUT', '/v1/listeners/edge', { port: 8081 })).status).toBe(200);
    expect((await call('PUT', '/v1/services/rank/weights', { blue: 50, green: 50 })).status).toBe(200);
    await reader.next((e) => e.data['change'] === 'setWeights');
    expect(reader.events.map((e) => [e.event, e.data['change'], e.data['service']])).toEqual([
      ['revision', 'putService', 'rank'],
      ['revision', 'setWeights', 'rank'],
    ]);
  });

  it('refuses an unknown event type or a malformed Last-Event-ID', async () => {
    const unknownType = await call('GET', '/v1/events?types=revision,acks');
    expect(unknownType.status).toBe(400);
    expect(await unknownType.json()).toMatchObject({ error: { code: 'SLUICE_INVALID_PARAM', path: '/types' } });
    const badId = await fetch(`${sluice.adminUrl}/v1/events`, { headers: { 'last-event-id': 'abc' } });
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({ error: { code: 'SLUICE_INVALID_PARAM', path: '/Last-Event-ID' } });
  });

  it('lets go of a client that left, and ends every stream when sluice stops', async () => {
    const leaving = await open();
    const staying = await open();
    expect(sluice.events.subscriberCount()).toBe(2);
    leaving.close();
    await vi.waitFor(() => expect(sluice.events.subscriberCount()).toBe(1));
    await sluice.stop();
    expect(await staying.ended).toBe('ended');
    expect(sluice.events.subscriberCount()).toBe(0);
    await start(); // for afterEach
  });
});

describe('with --admin-auth-reads', () => {
  beforeEach(() => start({ adminToken: TOKEN, adminAuthReads: true }));

  it('needs the token to read events', async () => {
    const refused = await fetch(`${sluice.adminUrl}/v1/events`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'SLUICE_UNAUTHORIZED' } });
    const reader = await open('', { authorization: `Bearer ${TOKEN}` });
    await fetch(`${sluice.adminUrl}/v1/services/predict`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(predictBody()) });
    expect((await reader.next()).data).toMatchObject({ type: 'revision', actor: 'token', service: 'predict' });
  });
});
