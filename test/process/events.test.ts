// The event stream of `sluice serve` as a user's tool reads it: from outside the process, a change
// arrives as a revision event, a scripted Envoy's connection and ACKs follow, a client reconnecting
// with Last-Event-ID gets what it missed, and stopping sluice ends the stream and lets it exit.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { blueGreenService } from '../support/services.js';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { SseReader } from '../support/sse.js';

const EDS_NAMES = ['predict_blue', 'predict_green'];
const NAMES = { names: { [ENDPOINT_TYPE]: EDS_NAMES, [ROUTE_TYPE]: ['default'] } };

let dir: string;
let sluice: SluiceProcess;
let envoy: FakeEnvoy | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-events-'));
  sluice = await startSluiceProcess({ args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0'], cwd: dir });
});

afterAll(async () => {
  envoy?.close();
  await sluice?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('streams what happens to a reader outside the process, resumes it, and ends it when sluice stops', async () => {
  const reader = await SseReader.open(`${sluice.adminUrl}/v1/events`);
  const put = await fetch(`${sluice.adminUrl}/v1/services/predict`, { method: 'PUT', body: JSON.stringify(blueGreenService({ port: 5001 }, { port: 5002 })) });
  expect(put.status).toBe(200);
  const defined = await reader.next();
  expect(defined).toMatchObject({ id: 1, event: 'revision', data: { id: 1, type: 'revision', revision: 1, change: 'putService', service: 'predict', actor: 'admin' } });

  envoy = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
  envoy.subscribe(CLUSTER_TYPE, [], NODE);
  envoy.subscribe(ENDPOINT_TYPE, EDS_NAMES);
  envoy.subscribe(LISTENER_TYPE);
  envoy.subscribe(ROUTE_TYPE, ['default']);
  expect((await reader.next()).data).toMatchObject({ type: 'proxy-connected', node: NODE.id });
  await envoy.ackUntil(() => envoy!.heldNames(ENDPOINT_TYPE).join() === EDS_NAMES.join() && envoy!.ackedVersion(ROUTE_TYPE) !== undefined, NAMES);
  const routesAck = await reader.next((e) => e.event === 'ack' && e.data['resourceType'] === 'routes' && e.data['version'] === envoy!.ackedVersion(ROUTE_TYPE));
  reader.close();

  // Missed while away: the weights change and the ACKs of it.
  const weights = await fetch(`${sluice.adminUrl}/v1/services/predict/weights`, { method: 'PUT', body: JSON.stringify({ blue: 50, green: 50 }) });
  expect(weights.status).toBe(200);
  const back = await SseReader.open(`${sluice.adminUrl}/v1/events`, { 'last-event-id': String(routesAck.id) });
  expect(await back.next()).toMatchObject({ id: routesAck.id! + 1, event: 'revision', data: { revision: 2, change: 'setWeights' } });

  const exit = sluice.stop();
  expect(await back.ended).toBe('ended');
  expect(await exit).toBe(0);
});
