// GET /metrics through inject(): the xDS series after simulated responses, ACKs and NACKs fanned
// out to the fleet status and the metrics, the revision and build series, convergence measured
// from commit to the last ACK, admin requests counted by route pattern, never by raw URL, and
// traffic per service version: weights from the desired state, requests and errors from load
// reports, each series following the versions the state has now.

import type { FastifyInstance } from 'fastify';
import { register as globalRegistry } from 'prom-client';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAdminApp } from '../../src/admin/app.js';
import { LoadStats } from '../../src/fleet/load-stats.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { ConvergenceTracker } from '../../src/observability/convergence.js';
import { fanOutCallbacks } from '../../src/observability/fan-out-callbacks.js';
import { SluiceMetrics } from '../../src/observability/metrics.js';
import { registerTrafficMetrics } from '../../src/observability/traffic-metrics.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { RevisionStatus } from '../../src/sync/revision-status.js';
import type { StreamCallbacks } from '../../src/xds/server/callbacks.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { ackAll, versions } from './fleet-driver.js';
import { INITIAL_STATE, predictBody } from './harness.js';

let fleet: FleetStatus;
let ledger: RevisionLedger;
let metrics: SluiceMetrics;
let callbacks: StreamCallbacks;
let store: Store;
let app: FastifyInstance;
let loadStats: LoadStats;
/** LoadStats' clock (epoch ms); its samples are kept for 10 s. */
let loadClock: number;

beforeEach(async () => {
  fleet = new FleetStatus();
  ledger = new RevisionLedger();
  store = await Store.open(SqliteAdapter.open(':memory:'), { initialState: INITIAL_STATE });
  const currentRevision = (): number => store.current().revision;
  metrics = new SluiceMetrics({ fleet, currentRevision });
  callbacks = fanOutCallbacks(fleet, metrics.xds);
  loadClock = 1_000;
  loadStats = new LoadStats(() => loadClock, 10_000);
  registerTrafficMetrics(metrics.registry, { state: () => store.current(), loads: loadStats });
  app = buildAdminApp({
    store,
    fleet: { list: () => [] },
    logger: pino({ level: 'silent' }),
    isReady: () => true,
    revisions: new RevisionStatus(fleet, ledger, currentRevision),
    metrics,
  });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await store.close();
});

function open(streamId: number, id: string, kind: 'sotw' | 'delta'): void {
  callbacks.streamOpened(streamId, { id, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' }, { kind, aggregated: true });
}

/** Commits revision 1 through the admin API. */
async function putPredict(): Promise<void> {
  const res = await app.inject({ method: 'PUT', url: '/v1/services/predict', payload: predictBody() });
  expect(res.statusCode).toBe(200);
}

async function scrape(): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/**
 * Resolves once the fleet's change listeners have run for the changes made so far. FleetStatus
 * notifies once per event-loop turn, in subscription order, so a tracker subscribed earlier has
 * seen those changes by then.
 */
function fleetListenersRan(): Promise<void> {
  return new Promise((resolve) => {
    const stop = fleet.onChange(() => {
      stop();
      resolve();
    });
  });
}

/** The value of one series, e.g. value(text, 'sluice_xds_acks_total{type="clusters"}'); undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('serves the Prometheus text format with the default process metrics', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE sluice_xds_responses_total counter');
    expect(value(res.body, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(res.body, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts xDS responses, ACKs and NACKs per type, and gauges connected streams by kind', async () => {
    open(1, 'edge-a', 'sotw');
    open(2, 'edge-b', 'sotw');
    open(3, 'edge-c', 'delta');
    for (const streamId of [1, 2, 3]) callbacks.responseSent(streamId, CLUSTER_TYPE, 'v1', `n${streamId}`, 2);
    callbacks.responseSent(1, ROUTE_TYPE, 'v1', 'n4', 1);
    callbacks.acked(1, CLUSTER_TYPE, 'v1');
    callbacks.acked(2, CLUSTER_TYPE, 'v1');
    callbacks.nacked(3, CLUSTER_TYPE, 'v1', 'bad cluster');
    callbacks.nacked(1, ROUTE_TYPE, 'v1', 'bad route');

    let text = await scrape();
    expect(value(text, 'sluice_xds_responses_total{type="clusters"}')).toBe(3);
    expect(value(text, 'sluice_xds_responses_total{type="routes"}')).toBe(1);
    expect(value(text, 'sluice_xds_responses_total{type="listeners"}')).toBe(0);
    expect(value(text, 'sluice_xds_acks_total{type="clusters"}')).toBe(2);
    expect(value(text, 'sluice_xds_acks_total{type="routes"}')).toBe(0);
    expect(value(text, 'sluice_xds_nacks_total{type="clusters"}')).toBe(1);
    expect(value(text, 'sluice_xds_nacks_total{type="routes"}')).toBe(1);
    expect(value(text, 'sluice_xds_nacks_total{type="endpoints"}')).toBe(0);
    expect(value(text, 'sluice_xds_connected_proxies{kind="sotw"}')).toBe(2);
    expect(value(text, 'sluice_xds_connected_proxies{kind="delta"}')).toBe(1);
    // The fleet status heard the same events through the fan-out.
    expect(fleet.list().map((proxy) => proxy.node.id)).toEqual(['edge-a', 'edge-b', 'edge-c']);
    expect(fleet.counters).toEqual({ nacks: 2, responses: 4 });

    callbacks.streamClosed(3);
    callbacks.streamClosed(1);
    text = await scrape();
    expect(value(text, 'sluice_xds_connected_proxies{kind="sotw"}')).toBe(1);
    expect(value(text, 'sluice_xds_connected_proxies{kind="delta"}')).toBe(0);
  });

  it('reports the state revision, the revision snapshots were built from and counts snapshot builds', async () => {
    expect(value(await scrape(), 'sluice_state_revision')).toBe(0);
    expect(value(await scrape(), 'sluice_snapshot_builds_total')).toBe(0);
    expect(value(await scrape(), 'sluice_snapshot_revision')).toBe(0);
    await putPredict();
    metrics.snapshotBuilt(1);
    metrics.snapshotBuilt(1);
    const text = await scrape();
    expect(value(text, 'sluice_state_revision')).toBe(1);
    expect(value(text, 'sluice_snapshot_builds_total')).toBe(2);
    expect(value(text, 'sluice_snapshot_revision')).toBe(1);
  });

  it('observes convergence once per revision, from commit to the last proxy applying it', async () => {
    let now = 1_000;
    const revisions = new RevisionStatus(fleet, ledger, () => store.current().revision);
    const convergence = new ConvergenceTracker(revisions, metrics.convergence, () => now);
    convergence.start();
    const stop = store.subscribe((state) => convergence.committed(state.revision));
    open(1, 'edge-a', 'sotw');
    open(2, 'edge-b', 'delta');
    ledger.record(0, [{ group: 'default', versions: versions('r0') }]);
    ackAll(fleet, 1, versions('r0'));
    ackAll(fleet, 2, versions('r0'));

    await putPredict();
    ledger.record(1, [{ group: 'default', versions: versions('r1') }]);
    revisions.ledgerChanged();
    // ACKs arrive in separate event-loop turns; fleet listeners run once per turn.
    now += 5;
    ackAll(fleet, 1, versions('r1'));
    await fleetListenersRan();
    now += 25; // the second proxy applies revision 1 30 ms after the commit
    ackAll(fleet, 2, versions('r1'));
    await fleetListenersRan();
    now += 100;
    ackAll(fleet, 2, versions('r1')); // a repeated ACK observes nothing more
    await fleetListenersRan();

    const text = await scrape();
    expect(value(text, 'sluice_convergence_seconds_count')).toBe(1);
    expect(value(text, 'sluice_convergence_seconds_sum')).toBeCloseTo(0.03, 6);
    expect(value(text, 'sluice_convergence_seconds_bucket{le="0.025"}')).toBe(0);
    expect(value(text, 'sluice_convergence_seconds_bucket{le="0.05"}')).toBe(1);
    expect(value(text, 'sluice_convergence_seconds_bucket{le="10"}')).toBe(1);
    stop();
    convergence.stop();
  });

  it('does not observe a revision committed while no proxy is connected', async () => {
    const revisions = new RevisionStatus(fleet, ledger, () => store.current().revision);
    const convergence = new ConvergenceTracker(revisions, metrics.convergence);
    convergence.start();
    const stop = store.subscribe((state) => convergence.committed(state.revision));
    await putPredict(); // revision 1, with no proxy connected
    open(1, 'edge-a', 'sotw');
    ledger.record(1, [{ group: 'default', versions: versions('r1') }]);
    revisions.ledgerChanged();
    ackAll(fleet, 1, versions('r1'));
    // The tracker hears of the connect and the ACKs from the fleet's listeners, a turn later:
    // scraping before they ran would pass whatever the tracker does with revision 1.
    await fleetListenersRan();
    expect(value(await scrape(), 'sluice_convergence_seconds_count')).toBe(0);

    // A revision committed while the proxy is connected is observed, through the same listeners.
    const res = await app.inject({ method: 'PUT', url: '/v1/services/predict', payload: { ...predictBody(), weights: { blue: 90, green: 10 } } });
    expect(res.statusCode).toBe(200);
    ledger.record(2, [{ group: 'default', versions: versions('r2') }]);
    revisions.ledgerChanged();
    ackAll(fleet, 1, versions('r2'));
    await fleetListenersRan();
    expect(value(await scrape(), 'sluice_convergence_seconds_count')).toBe(1);
    stop();
    convergence.stop();
  });

  it('counts admin requests by route pattern, method and status, never by raw URL', async () => {
    await app.inject({ method: 'GET', url: '/v1/services/predict' });
    await app.inject({ method: 'GET', url: '/v1/services/other?x=1' });
    await app.inject({ method: 'GET', url: '/v1/revisions/0' });
    await app.inject({ method: 'GET', url: '/v1/revisions/secret-token' });
    await app.inject({ method: 'GET', url: '/v1/services' });
    await app.inject({ method: 'DELETE', url: '/no/such/path-abc' });

    const text = await scrape();
    expect(value(text, 'sluice_admin_requests_total{route="/v1/services/:name",method="GET",status="404"}')).toBe(2);
    expect(value(text, 'sluice_admin_requests_total{route="/v1/revisions/:revision",method="GET",status="400"}')).toBe(2);
    expect(value(text, 'sluice_admin_requests_total{route="/v1/services",method="GET",status="200"}')).toBe(1);
    expect(value(text, 'sluice_admin_requests_total{route="unmatched",method="DELETE",status="404"}')).toBe(1);
    for (const raw of ['predict', 'other', 'secret-token', 'path-abc']) expect(text).not.toContain(raw);
    // The scrape itself is counted once answered.
    expect(value(await scrape(), 'sluice_admin_requests_total{route="/metrics",method="GET",status="200"}')).toBe(1);
  });

  it('keeps its metrics in its own registry', async () => {
    const other = new SluiceMetrics({ fleet, currentRevision: () => 0 });
    expect(globalRegistry.getSingleMetric('sluice_xds_acks_total')).toBeUndefined();
    expect(other.registry.getSingleMetric('sluice_xds_acks_total')).toBeDefined();
    const otherCallbacks: StreamCallbacks = other.xds;
    otherCallbacks.acked(1, ENDPOINT_TYPE, 'v1');
    expect(value(await other.render(), 'sluice_xds_acks_total{type="endpoints"}')).toBe(1);
    expect(value(await scrape(), 'sluice_xds_acks_total{type="endpoints"}')).toBe(0);
  });

  it('gauges the weight of every version of every service, following each change of the desired state', async () => {
    expect(await scrape()).not.toContain('sluice_service_weight{');
    await putPredict();
    let text = await scrape();
    expect(text).toContain('# TYPE sluice_service_weight gauge');
    expect(value(text, 'sluice_service_weight{service="predict",version="blue"}')).toBe(100);
    expect(value(text, 'sluice_service_weight{service="predict",version="green"}')).toBe(0);

    const res = await app.inject({ method: 'PUT', url: '/v1/services/predict/weights', payload: { blue: 70, green: 30 } });
    expect(res.statusCode).toBe(200);
    text = await scrape();
    expect(value(text, 'sluice_service_weight{service="predict",version="blue"}')).toBe(70);
    expect(value(text, 'sluice_service_weight{service="predict",version="green"}')).toBe(30);
  });

  it('drops every series of a version removed from the state, and of a service deleted', async () => {
    await putPredict();
    loadStats.report([load('predict_green', 4, 1)]);
    let text = await scrape();
    expect(value(text, 'sluice_service_weight{service="predict",version="green"}')).toBe(0);
    expect(value(text, 'sluice_version_requests_total{service="predict",version="green"}')).toBe(5);

    const blueOnly = { ...predictBody(), versions: [{ name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] }], weights: { blue: 100 } };
    const res = await app.inject({ method: 'PUT', url: '/v1/services/predict', payload: blueOnly });
    expect(res.statusCode).toBe(200);
    text = await scrape();
    expect(value(text, 'sluice_service_weight{service="predict",version="blue"}')).toBe(100);
    expect(text).not.toContain('version="green"');

    expect((await app.inject({ method: 'DELETE', url: '/v1/services/predict' })).statusCode).toBe(200);
    text = await scrape();
    expect(text).not.toContain('service="predict"');
  });

  it('counts requests and errors per version from load reports, summed over proxies, only ever growing', async () => {
    await putPredict();
    let text = await scrape();
    expect(text).toContain('# TYPE sluice_version_requests_total counter');
    expect(text).toContain('# TYPE sluice_version_errors_total counter');
    // Every version starts at 0, so that rate() and increase() see its first requests.
    expect(value(text, 'sluice_version_requests_total{service="predict",version="blue"}')).toBe(0);
    expect(value(text, 'sluice_version_errors_total{service="predict",version="green"}')).toBe(0);

    loadStats.report([load('predict_blue', 30, 2, 'edge-a'), load('predict_green', 5, 5, 'edge-a'), load('other_v1', 7, 7, 'edge-a')]);
    loadStats.report([load('predict_blue', 10, 0, 'edge-b')]);
    text = await scrape();
    expect(value(text, 'sluice_version_requests_total{service="predict",version="blue"}')).toBe(42);
    expect(value(text, 'sluice_version_errors_total{service="predict",version="blue"}')).toBe(2);
    expect(value(text, 'sluice_version_requests_total{service="predict",version="green"}')).toBe(10);
    expect(value(text, 'sluice_version_errors_total{service="predict",version="green"}')).toBe(5);
    // A cluster of no service version in the state is not exported.
    expect(text).not.toContain('other');

    // Past LoadStats' window the counters keep what they counted.
    loadClock += 60_000;
    loadStats.report([load('predict_blue', 1, 1, 'edge-a')]);
    text = await scrape();
    expect(value(text, 'sluice_version_requests_total{service="predict",version="blue"}')).toBe(44);
    expect(value(text, 'sluice_version_errors_total{service="predict",version="blue"}')).toBe(3);
    expect(value(text, 'sluice_version_requests_total{service="predict",version="green"}')).toBe(10);
  });
});

/** One Envoy's load report on `cluster` for one interval. */
function load(cluster: string, successful: number, errors: number, nodeId = 'edge-a') {
  return { nodeId, cluster, successful, errors, issued: successful + errors, intervalMs: 2000 };
}
