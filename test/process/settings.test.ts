// Every setting of the README's table given the three ways users give it — a flag, an environment
// variable, a key of the config file — to a real `sluice serve` process, each observed from
// outside: the addresses it answers on, what its admin API asks and refuses, where its state goes,
// what its log says, what a second replica on the same store sees.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS, fileKey } from '../../src/config/config.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { blueGreenService } from '../support/services.js';
import { rawRequest } from '../admin-trust/raw-request.js';
import { createTestPki } from '../support/test-pki.js';

const TOKEN = 'proc-token-7c1e94';
type Source = 'flag' | 'env' | 'file';
type Settings = Partial<Record<(typeof SETTINGS)[number]['key'], string | number | boolean | string[]>>;

let dir: string;
const running: SluiceProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-settings-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts sluice with `settings` given all through one source (the config file by --config or SLUICE_CONFIG). */
async function start(source: Source, settings: Settings, name: string, configBy: 'flag' | 'env' = 'flag'): Promise<SluiceProcess> {
  const args: string[] = [];
  const env: Record<string, string> = {};
  if (source === 'file') {
    const file = join(dir, `${name}.yaml`);
    const entries = Object.entries(settings).map(([key, value]) => {
      const setting = SETTINGS.find((s) => s.key === key)!;
      return `${fileKey(setting)}: ${JSON.stringify(value)}`;
    });
    writeFileSync(file, `${entries.join('\n')}\n`);
    if (configBy === 'flag') args.push('--config', file);
    else env['SLUICE_CONFIG'] = file;
  }
  for (const [key, value] of Object.entries(settings)) {
    const setting = SETTINGS.find((s) => s.key === key)!;
    if (source === 'flag') {
      if (typeof value === 'boolean') {
        if (value) args.push(`--${setting.flag}`);
      } else args.push(`--${setting.flag}`, String(value));
    }
    if (source === 'env') env[setting.env] = String(value);
  }
  const sluice = await startSluiceProcess({ args, env, cwd: dir });
  running.push(sluice);
  return sluice;
}

async function http(url: string, method = 'GET', body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: await response.json().catch(() => undefined) };
}

function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const SERVICE = blueGreenService({ port: 5001 }, { port: 5002 }, { listener: 'default' });

/** The settings covered below, per source; checked against the README's table at the end. */
const covered: Record<Source, Set<string>> = { flag: new Set(), env: new Set(), file: new Set() };

describe.each<Source>(['flag', 'env', 'file'])('settings given as %s', (source) => {
  it('binds the xDS and admin addresses, guards the API with the token, limits changes, and puts state, listener and log where told', async () => {
    const xdsPort = await freePort('127.0.0.2');
    const adminPort = await freePort('127.0.0.3');
    const statePath = join(dir, `${source}-a`, 'custom.db');
    const settings: Settings = {
      xdsHost: '127.0.0.2',
      xdsPort,
      adminHost: '127.0.0.3',
      adminPort,
      adminToken: TOKEN,
      adminAuthReads: true,
      adminRateLimit: 3,
      statePath,
      listenerPort: 8181,
      logLevel: 'debug',
    };
    const sluice = await start(source, settings, `${source}-a`);
    const admin = `http://127.0.0.3:${adminPort}`;
    expect(sluice.adminUrl).toBe(admin);

    // xDS: served on 127.0.0.2 at the port, not on 127.0.0.1.
    expect(await tcpAccepts('127.0.0.1', xdsPort)).toBe(false);
    const envoy = new FakeEnvoy(`127.0.0.2:${xdsPort}`);
    try {
      envoy.subscribe(LISTENER_TYPE, [], NODE);
      const listeners = await envoy.next(5000);
      expect(listeners.type_url).toBe(LISTENER_TYPE);
      expect(listeners.resources).toHaveLength(1);
    } finally {
      envoy.close();
    }

    // Admin: on 127.0.0.3 only; reads and changes need the token.
    expect(await tcpAccepts('127.0.0.1', adminPort)).toBe(false);
    expect((await http(`${admin}/healthz`)).status).toBe(200);
    expect((await http(`${admin}/v1/services`)).status).toBe(401);
    expect((await http(`${admin}/v1/services`, 'GET', undefined, TOKEN)).status).toBe(200);
    expect((await http(`${admin}/v1/services/predict`, 'PUT', SERVICE)).status).toBe(401);
    expect((await http(`${admin}/v1/services/predict`, 'PUT', SERVICE, TOKEN)).status).toBe(200);

    // The default listener got the listener port on first start.
    expect((await http(`${admin}/v1/listeners/default`, 'GET', undefined, TOKEN)).json).toMatchObject({ port: 8181 });
    // The state went to the file named (held by this process).
    expect(existsSync(statePath)).toBe(true);
    expect(existsSync(`${statePath}.owner`)).toBe(true);
    // Debug lines are logged (pino level 20): the xDS responses sent above.
    expect(sluice.logs().some((line) => line.level === 20)).toBe(true);

    // Three changes a second from one client: a burst of six gets some 429s.
    const burst = await Promise.all(
      [50, 60, 70, 80, 90, 100].map((blue) => http(`${admin}/v1/services/predict/weights`, 'PUT', { blue, green: 100 - blue }, TOKEN)),
    );
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.json.error.code).toBe('SLUICE_RATE_LIMITED');

    for (const key of Object.keys(settings)) covered[source].add(key);
  });

  it('reads the token from a file, shares the state through the store, and holds the leader lease as long as told', async () => {
    const tokenFile = join(dir, `${source}-token`);
    writeFileSync(tokenFile, `  ${TOKEN}\n`);
    const leaseMs = 45_000;
    const settings: Settings = { store: postgres.url, leaderLeaseMs: leaseMs, adminTokenFile: tokenFile, xdsPort: 0, adminPort: 0 };
    // The file source names its file through SLUICE_CONFIG here (through --config above).
    const sluice = await start(source, settings, `${source}-b`, 'env');
    // Each source's service has a path of its own: the three runs share one store.
    const body = { ...SERVICE, match: { prefix: `/${source}` } };
    const put = await http(`${sluice.adminUrl}/v1/services/${source}-svc`, 'PUT', body, TOKEN);
    expect(put.status).toBe(200);
    expect((await http(`${sluice.adminUrl}/v1/services/${source}-svc`, 'DELETE')).status).toBe(401);

    // A second replica on the same store, started with plain flags, sees the change.
    const other = await startSluiceProcess({ args: ['--store', postgres.url, '--xds-port', '0', '--admin-port', '0'], cwd: dir });
    running.push(other);
    expect((await http(`${other.adminUrl}/v1/services/${source}-svc`)).json).toMatchObject({ stable: 'blue' });
    expect(existsSync(join(dir, '.sluice', 'sluice.db'))).toBe(false);

    // The lease this replica holds runs for about leaderLeaseMs (the default would be 10 s).
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ left_ms: number }>(
        "SELECT EXTRACT(EPOCH FROM (expires_at - now())) * 1000 AS left_ms FROM leases WHERE name = 'rollouts'",
      );
      expect(Number(rows[0]!.left_ms)).toBeGreaterThan(leaseMs / 2);
      expect(Number(rows[0]!.left_ms)).toBeLessThanOrEqual(leaseMs);
    } finally {
      await client.end();
    }
    for (const key of Object.keys(settings)) covered[source].add(key);
    covered[source].add('config');
  });

  it('keeps the states of as many past revisions as revisionRetention says, and every audit entry', async () => {
    const sluice = await start(source, { revisionRetention: 2, xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-retention.db`) }, `${source}-retention`);
    const admin = sluice.adminUrl;
    // Four changes: revisions 1 to 4; revision 4 is current, 2 and 3 are the two past ones kept.
    expect((await http(`${admin}/v1/services/predict`, 'PUT', SERVICE)).status).toBe(200);
    for (const blue of [90, 80, 70]) {
      expect((await http(`${admin}/v1/services/predict/weights`, 'PUT', { blue, green: 100 - blue })).status).toBe(200);
    }
    const pruned = await http(`${admin}/v1/revisions/1/restore`, 'POST');
    expect(pruned.status).toBe(404);
    expect(pruned.json.error.code).toBe('SLUICE_REVISION_NOT_FOUND');
    expect(pruned.json.error.message).toMatch(/pruned by the revision retention/);
    const audit = await http(`${admin}/v1/audit?limit=10`);
    expect(audit.json.entries.map((e: { revision: number }) => e.revision)).toEqual([4, 3, 2, 1]);
    const restored = await http(`${admin}/v1/revisions/3/restore`, 'POST');
    expect(restored.status).toBe(200);
    expect((await http(`${admin}/v1/services/predict`)).json.weights).toEqual({ blue: 80, green: 20 });
    covered[source].add('revisionRetention');
  });

  it('tells the rollout webhooks given of each phase change of a rollout that names none', async () => {
    // A receiver on loopback; the two webhooks are two paths on it (flag and variable: comma-separated; file: a list).
    const posts: { path: string; kind: string }[] = [];
    let arrived: () => void = () => undefined;
    const receiver = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        posts.push({ path: request.url ?? '', kind: JSON.parse(text).kind });
        response.end();
        arrived();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const rolloutWebhooks = [`${base}/first`, `${base}/second`];
      const sluice = await start(source, { rolloutWebhooks, xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-hooks.db`) }, `${source}-hooks`);
      expect((await http(`${sluice.adminUrl}/v1/services/predict`, 'PUT', SERVICE)).status).toBe(200);
      const started = await http(`${sluice.adminUrl}/v1/services/predict/rollouts`, 'POST', { candidate: 'green', steps: [{ weight: 100 }] });
      expect(started.status).toBe(201);
      // started, step reached, succeeded: three messages to each webhook.
      while (posts.length < 6) await new Promise<void>((resolve) => (arrived = resolve));
      const kinds = (path: string) => posts.filter((p) => p.path === path).map((p) => p.kind);
      expect(kinds('/first')).toEqual(['started', 'step-reached', 'succeeded']);
      expect(kinds('/second')).toEqual(['started', 'step-reached', 'succeeded']);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
    covered[source].add('rolloutWebhooks');
  });

  it('serves the admin API over HTTPS with the certificate and key given, asks a certificate of the client CA given, and answers under the host names given', async () => {
    const pki = createTestPki();
    const server = pki.server('admin');
    const clientPair = pki.client('client', { commonName: 'admin-client' });
    const settings: Settings = {
      adminTlsCert: server.certFile,
      adminTlsKey: server.keyFile,
      adminClientCa: pki.caFile,
      adminHostNames: ['sluice.test', 'Admin.Example'],
      xdsPort: 0,
      adminPort: 0,
      statePath: join(dir, `${source}-tls.db`),
    };
    const sluice = await start(source, settings, `${source}-tls`);
    expect(sluice.adminUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = { caFile: pki.caFile, certFile: clientPair.certFile, keyFile: clientPair.keyFile };
    const read = (host?: string) => rawRequest(`${sluice.adminUrl}/v1/services`, { ...client, ...(host === undefined ? {} : { headers: { host } }) });
    expect((await read()).status).toBe(200);
    expect((await read(`sluice.test:${sluice.adminPort}`)).status).toBe(200);
    expect((await read('admin.example')).status).toBe(200);
    const misdirected = await read(`elsewhere.test:${sluice.adminPort}`);
    expect(misdirected.status).toBe(421);
    expect(JSON.parse(misdirected.body).error.code).toBe('SLUICE_UNKNOWN_HOST');
    // The client CA: no certificate, or one it did not sign, ends the handshake.
    await expect(rawRequest(`${sluice.adminUrl}/v1/services`, { caFile: pki.caFile })).rejects.toThrow();
    await expect(rawRequest(`${sluice.adminUrl}/v1/services`, { caFile: pki.caFile, certFile: server.certFile, keyFile: server.keyFile })).rejects.toThrow();
    pki.remove();
    for (const key of Object.keys(settings)) covered[source].add(key);
  });

  it('serves xDS over TLS to the client certificates the CA signed, each claiming only what the identity policy allows', async () => {
    const pki = createTestPki();
    try {
      const server = pki.server('server');
      const edge = pki.client('edge', { spiffeId: 'spiffe://example.org/ns/ml/sa/edge-1' });
      const policy = join(dir, `${source}-policy.yaml`);
      writeFileSync(policy, 'rules:\n  - identity: spiffe://example.org/ns/ml/sa/edge-*\n    nodeIds: ["edge-*"]\n    nodeClusters: [edge]\n');
      const settings: Settings = { xdsTlsCert: server.certFile, xdsTlsKey: server.keyFile, xdsClientCa: pki.caFile, xdsIdentityPolicy: policy };
      const sluice = await start(source, { ...settings, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-tls.db`) }, `${source}-tls`);
      const address = `127.0.0.1:${sluice.xdsPort}`;
      const withCertificate = grpc.credentials.createSsl(pki.ca, edge.key, edge.cert);
      const firstResponse = async (client: FakeEnvoy, cluster: string): Promise<string> => {
        client.subscribe(LISTENER_TYPE, [], { ...NODE, id: 'edge-1', cluster });
        try {
          return (await client.next(5000)).type_url;
        } catch (error) {
          return `refused ${(error as grpc.ServiceError).code}`;
        } finally {
          client.close();
        }
      };
      // The policy allows cluster edge to this identity, not core; the CA and TLS keep the others out.
      expect(await firstResponse(new FakeEnvoy(address, undefined, withCertificate), 'edge')).toBe(LISTENER_TYPE);
      expect(await firstResponse(new FakeEnvoy(address, undefined, withCertificate), 'core')).toBe(`refused ${grpc.status.PERMISSION_DENIED}`);
      expect(await firstResponse(new FakeEnvoy(address, undefined, grpc.credentials.createSsl(pki.ca)), 'edge')).toBe(`refused ${grpc.status.UNAVAILABLE}`);
      expect(await firstResponse(new FakeEnvoy(address), 'edge')).toBe(`refused ${grpc.status.UNAVAILABLE}`);
      for (const key of Object.keys(settings)) covered[source].add(key);
    } finally {
      pki.remove();
    }
  });

  it('sends an empty state to a proxy that connects holding configuration only when allowEmpty is on', async () => {
    // A proxy that held configuration (it declares a version) connects to a sluice with no service.
    const declaredClusters = async (sluice: SluiceProcess): Promise<FakeEnvoy> => {
      const envoy = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
      envoy.send({ type_url: CLUSTER_TYPE, version_info: 'held-before', resource_names: [], node: NODE });
      return envoy;
    };
    const allowed = await start(source, { allowEmpty: true, xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-allow.db`) }, `${source}-allow`);
    const sent = await declaredClusters(allowed);
    try {
      const clusters = await sent.next(5000);
      expect(clusters.type_url).toBe(CLUSTER_TYPE);
      expect(clusters.resources).toEqual([]);
      expect((await http(`${allowed.adminUrl}/readyz`)).status).toBe(200);
    } finally {
      sent.close();
    }

    const guarded = await start(source, { allowEmpty: false, xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-guard.db`) }, `${source}-guard`);
    const kept = await declaredClusters(guarded);
    try {
      await expect.poll(async () => (await http(`${guarded.adminUrl}/readyz`)).status, { timeout: 5000 }).toBe(503);
      const ready = await http(`${guarded.adminUrl}/readyz`);
      expect(ready.json.error.message).toMatch(/empty state .* while proxies with configuration are connected/);
      expect(guarded.logs().some((line) => line.level === 40 && line['node'] === NODE.id && /--allow-empty/.test(line.msg))).toBe(true);
      expect(await kept.noResponseWithin(100)).toEqual([]);
    } finally {
      kept.close();
    }
    covered[source].add('allowEmpty');
  });

  it('limits the xDS port as told: streams per address, node field length, names per request, request size, streams in all', async () => {
    const limits = { xdsMaxStreamsPerPeer: 2, xdsMaxNodeBytes: 32, xdsMaxResourceNames: 5, xdsMaxRequestKib: 1 };
    const sluice = await start(source, { ...limits, xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-limits.db`) }, `${source}-limits`);
    const address = `127.0.0.1:${sluice.xdsPort}`;
    const clients: FakeEnvoy[] = [];
    /** A client whose first request is `request` (a cluster subscription of NODE unless told). */
    const client = (request: Record<string, unknown> = {}): FakeEnvoy => {
      const envoy = new FakeEnvoy(address);
      clients.push(envoy);
      envoy.send({ type_url: CLUSTER_TYPE, resource_names: [], node: NODE, ...request });
      return envoy;
    };
    const endedWith = (envoy: FakeEnvoy) =>
      envoy.next(5000).then(
        () => 'answered',
        (error: { code?: number; details?: string }) => ({ code: error.code, details: error.details }),
      );
    const metric = async (series: string): Promise<number | undefined> => {
      const line = (await (await fetch(`${sluice.adminUrl}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    try {
      const first = client();
      expect(await endedWith(first)).toBe('answered');
      expect(await endedWith(client({ node: { ...NODE, id: 'second' } }))).toBe('answered');
      expect(await endedWith(client({ node: { ...NODE, id: 'third' } }))).toEqual({
        code: 8,
        details: 'sluice serves at most 2 xDS streams at once from one address (--xds-max-streams-per-peer)',
      });
      clients[1]!.close();
      await expect.poll(() => metric('sluice_xds_connected_proxies{kind="sotw"}'), { timeout: 5000 }).toBe(1);
      expect(await endedWith(client({ node: { ...NODE, id: 'n'.repeat(33) } }))).toEqual({ code: 3, details: 'node.id is longer than 32 bytes (--xds-max-node-bytes)' });
      expect(await endedWith(client({ type_url: ENDPOINT_TYPE, resource_names: ['a', 'b', 'c', 'd', 'e', 'f'] }))).toEqual({
        code: 3,
        details: 'a request names 6 resources; at most 5 (--xds-max-resource-names)',
      });
      const large = await endedWith(client({ type_url: ENDPOINT_TYPE, resource_names: ['x'.repeat(1100)] }));
      expect(large).toMatchObject({ code: 8, details: expect.stringMatching(/^Received message larger than max \(\d+ vs 1024\)$/) });
      expect(await metric('sluice_xds_streams_refused_total{limit="streams-per-peer"}')).toBe(1);
      expect(await metric('sluice_xds_streams_refused_total{limit="node-id-length"}')).toBe(1);
      expect(await metric('sluice_xds_streams_refused_total{limit="resource-names"}')).toBe(1);
      const refusedLines = sluice.logs().filter((line) => line.msg.startsWith('xDS stream refused'));
      expect(refusedLines.map((line) => line['limit'])).toEqual(['streams-per-peer', 'node-id-length', 'resource-names']);
    } finally {
      for (const envoy of clients) envoy.close();
    }

    const one = await start(source, { xdsMaxStreams: 1, xdsPort: 0, adminPort: 0, statePath: join(dir, `${source}-one-stream.db`) }, `${source}-one-stream`);
    const onlyOne = new FakeEnvoy(`127.0.0.1:${one.xdsPort}`);
    const another = new FakeEnvoy(`127.0.0.1:${one.xdsPort}`);
    try {
      onlyOne.subscribe(CLUSTER_TYPE, [], NODE);
      expect((await onlyOne.next(5000)).type_url).toBe(CLUSTER_TYPE);
      another.subscribe(CLUSTER_TYPE, [], { ...NODE, id: 'another' });
      await expect(another.next(5000)).rejects.toMatchObject({ code: 8, details: 'sluice serves at most 1 xDS streams at once (--xds-max-streams)' });
    } finally {
      onlyOne.close();
      another.close();
    }
    for (const key of [...Object.keys(limits), 'xdsMaxStreams']) covered[source].add(key);
  });
});

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describe('the README table', () => {
  it('has every setting covered by a process test given as a flag, a variable and a config key', () => {
    const all = SETTINGS.map((s) => s.key as string).sort();
    expect([...covered.flag].sort()).toEqual(all);
    expect([...covered.env].sort()).toEqual(all);
    // The config file cannot name another config file; it is given by --config and SLUICE_CONFIG.
    expect([...covered.file].sort()).toEqual(all);
  });
});
