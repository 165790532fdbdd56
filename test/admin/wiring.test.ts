// The composition root's wiring of revision status and metrics, end to end with a scripted ADS
// client: a committed revision is reported applied once the client ACKs it, and the xDS, build,
// revision and convergence series follow. No Envoy; the protocol itself is tested in test/xds.

import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { predictBody } from './harness.js';

const EDS_NAMES = ['predict_blue', 'predict_green'];
const NAMES = { names: { [ENDPOINT_TYPE]: EDS_NAMES, [ROUTE_TYPE]: ['default'] } };

let sluice: RunningSluice;
let envoy: FakeEnvoy;

beforeEach(async () => {
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:' },
    pino({ level: 'silent' }),
  );
  envoy = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
});

afterEach(async () => {
  envoy.close();
  await sluice.stop();
});

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it('reports a revision applied once the proxy ACKs it, and measures it', async () => {
  // As Envoy does: every type, endpoints and routes by name (the service's clusters, the listener's routes).
  envoy.subscribe(CLUSTER_TYPE, [], NODE);
  envoy.subscribe(ENDPOINT_TYPE, EDS_NAMES);
  envoy.subscribe(LISTENER_TYPE);
  envoy.subscribe(ROUTE_TYPE, ['default']);
  await envoy.ackUntil(() => envoy.ackedVersion(CLUSTER_TYPE) !== undefined && envoy.ackedVersion(LISTENER_TYPE) !== undefined, NAMES);
  const metrics = async () => (await fetch(`${sluice.adminUrl}/metrics`)).text();
  // The first build, and any a new node group's first subscription causes.
  const buildsBefore = value(await metrics(), 'sluice_snapshot_builds_total') ?? 0;

  const put = await fetch(`${sluice.adminUrl}/v1/services/predict`, { method: 'PUT', body: JSON.stringify(predictBody()) });
  expect(put.status).toBe(200);
  const answer = fetch(`${sluice.adminUrl}/v1/revisions/1?wait=10s`).then((res) => res.json());
  await envoy.ackUntil(
    () =>
      envoy.heldNames(CLUSTER_TYPE).join() === EDS_NAMES.join() &&
      envoy.heldNames(ENDPOINT_TYPE).join() === EDS_NAMES.join() &&
      JSON.stringify(envoy.heldResource(ROUTE_TYPE, 'default') ?? {}).includes('predict_split'),
    NAMES,
  );
  expect(await answer).toMatchObject({
    revision: 1,
    current: 1,
    complete: true,
    proxies: [{ node: { id: NODE.id, cluster: NODE.cluster }, streams: [{ kind: 'sotw' }], appliedRevision: 1, applied: true }],
  });

  const text = await metrics();
  expect(value(text, 'sluice_state_revision')).toBe(1);
  expect(value(text, 'sluice_snapshot_builds_total')).toBe(buildsBefore + 1);
  expect(value(text, 'sluice_snapshot_revision')).toBe(1);
  expect(value(text, 'sluice_xds_connected_proxies{kind="sotw"}')).toBe(1);
  expect(value(text, 'sluice_xds_responses_total{type="clusters"}')).toBe(2);
  expect(value(text, 'sluice_xds_acks_total{type="clusters"}')).toBe(2);
  expect(value(text, 'sluice_convergence_seconds_count')).toBe(1);
  expect(value(text, 'sluice_admin_requests_total{route="/v1/services/:name",method="PUT",status="200"}')).toBe(1);
});
