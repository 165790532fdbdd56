// A real `sluice serve` process against xDS clients that abuse its port, observed from outside: its
// log stays small under a flood of requests for a type it does not serve, and load reports on
// invented clusters are counted as dropped while those on the clusters it serves the proxy still
// count in its metrics; a burst of connects waits in a deep accept backlog and every one is answered.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { LRS_PATH, lrsDefinition, type LoadStatsRequest } from '../../src/xds/server/lrs.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { blueGreenService } from '../support/services.js';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';

let dir: string;
let sluice: SluiceProcess | undefined;
const closing: { close(): void }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-xds-abuse-'));
});
afterEach(async () => {
  for (const client of closing.splice(0)) client.close();
  await sluice?.stop();
  sluice = undefined;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function serve(name: string): Promise<SluiceProcess> {
  sluice = await startSluiceProcess({ args: ['--xds-port', '0', '--admin-port', '0', '--state', join(dir, `${name}.db`)], cwd: dir });
  return sluice;
}

async function metric(process: SluiceProcess, series: string): Promise<number | undefined> {
  const line = (await (await fetch(`${process.adminUrl}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Everything the process wrote to stdout, once it has exited and its output is closed. */
async function stopAndReadLog(process: SluiceProcess): Promise<string> {
  const closed = new Promise((resolve) => process.child.once('close', resolve));
  await process.stop();
  await closed;
  sluice = undefined;
  return process.logs().map((line) => JSON.stringify(line)).join('\n');
}

it('logs a flood of requests for a type it does not serve once per stream, in a short line', async () => {
  const process = await serve('unserved-type');
  const client = new FakeEnvoy(`127.0.0.1:${process.xdsPort}`);
  closing.push(client);
  client.subscribe(CLUSTER_TYPE, [], NODE);
  const clusters = await client.next(5000);
  expect(clusters.type_url).toBe(CLUSTER_TYPE);
  client.ack(clusters);
  // 5,000 requests of 10 KB each: 50 MB of type URLs.
  const typeUrl = `type.googleapis.com/${'x'.repeat(10_000)}`;
  for (let i = 0; i < 5000; i++) client.send({ type_url: `${typeUrl}${i}`, resource_names: ['private-name'] });
  client.subscribe(LISTENER_TYPE);
  // Handled in order: the listeners come after every request before them was handled.
  expect((await client.next(10_000)).type_url).toBe(LISTENER_TYPE);
  client.close();

  const log = await stopAndReadLog(process);
  const lines = log.split('\n').filter((line) => line.includes('does not serve'));
  expect(lines).toHaveLength(1);
  expect(lines[0]!.length).toBeLessThan(400);
  expect(lines[0]).not.toContain('private-name');
  expect(log.length).toBeLessThan(10_000);
}, 60_000);

it('counts load reports on invented clusters as dropped and keeps none; reports on its clusters still count', async () => {
  const process = await serve('load-reports');
  const put = await fetch(`${process.adminUrl}/v1/services/predict`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(blueGreenService({ port: 5001 }, { port: 5002 })),
  });
  expect(put.status).toBe(200);
  const proxy = new FakeEnvoy(`127.0.0.1:${process.xdsPort}`);
  closing.push(proxy);
  proxy.subscribe(CLUSTER_TYPE, [], NODE);
  await expect.poll(async () => (await proxy.next(5000)).resources.length, { timeout: 10_000 }).toBe(2);

  const grpcClient = new grpc.Client(`127.0.0.1:${process.xdsPort}`, grpc.credentials.createInsecure());
  closing.push(grpcClient);
  const method = lrsDefinition['StreamLoadStats']!;
  const call = grpcClient.makeBidiStreamRequest<LoadStatsRequest, object>(LRS_PATH, method.requestSerialize, method.responseDeserialize);
  call.on('data', () => undefined);
  call.on('error', () => undefined);
  const stats = (cluster: string, successful: number, errors: number) => ({
    cluster_name: cluster,
    upstream_locality_stats: [{ total_successful_requests: successful, total_error_requests: errors, total_issued_requests: successful + errors }],
  });
  for (let batch = 0; batch < 5; batch++) {
    call.write({ node: NODE, cluster_stats: Array.from({ length: 10_000 }, (_, i) => stats(`invented-${batch}-${i}`, 1, 1)) });
  }
  call.write({ node: NODE, cluster_stats: [stats('predict_blue', 40, 2)] });

  await expect.poll(() => metric(process, 'sluice_version_requests_total{service="predict",version="blue"}'), { timeout: 10_000 }).toBe(42);
  expect(await metric(process, 'sluice_version_errors_total{service="predict",version="blue"}')).toBe(2);
  expect(await metric(process, 'sluice_load_reports_dropped_total{reason="unknown-cluster"}')).toBe(50_000);
  expect(await metric(process, 'sluice_load_samples')).toBe(1);
  call.cancel();
}, 60_000);

/** The accept backlog the kernel keeps for a listening port, as `ss` shows it (Send-Q of a LISTEN socket). */
function listenBacklog(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  const backlog = Number(line.split(/\s+/)[2]);
  if (!Number.isInteger(backlog)) throw new Error(`ss shows no listening socket on port ${port}: ${JSON.stringify(line)}`);
  return backlog;
}

/** Opens `count` TCP connections at once, each sending HTTP/2's preface; resolves with how many the server answered. */
async function connectBurst(port: number, count: number): Promise<{ answered: number; failed: string[] }> {
  const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
  const sockets: Socket[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: count }, () => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.on('connect', () => socket.write(preface));
      return new Promise<string>((resolve) => {
        socket.once('data', () => resolve('answered'));
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        socket.once('close', () => resolve('closed'));
      });
    }),
  );
  for (const socket of sockets) socket.destroy();
  return { answered: outcomes.filter((outcome) => outcome === 'answered').length, failed: outcomes.filter((outcome) => outcome !== 'answered') };
}

it("keeps a fleet's burst of connects waiting, not refused: a backlog of 4096 (or the kernel's cap), every connection answered", async () => {
  const process = await serve('connect-burst');
  const kernelCap = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  expect(listenBacklog(process.xdsPort)).toBe(Math.min(4096, kernelCap));
  const burst = await connectBurst(process.xdsPort, 2000);
  expect(burst.failed).toEqual([]);
  expect(burst.answered).toBe(2000);
}, 60_000);
