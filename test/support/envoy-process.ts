// Runs a real Envoy for tests: renders a bootstrap from envoy/*.yaml pointing at a test's xDS
// port, spawns the binary, waits for its admin interface, and exposes admin reads (config_dump,
// stats, readiness). Owns the Envoy child process and its temp dir; it never starts sluice.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMap, isSeq, parseDocument } from 'yaml';
import { REPO_ROOT, envoyBinary } from './envoy-binary.js';

export const DEFAULT_BOOTSTRAP = join(REPO_ROOT, 'envoy/bootstrap-ads.yaml');
const LOG_LINES_KEPT = 400;
const START_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 5_000;
const POLL_MS = 50;

export interface BootstrapOverrides {
  /** An IP address: the demo bootstraps use a STATIC xds_cluster. */
  xdsHost?: string;
  xdsPort?: number;
  /** 0 lets Envoy pick a free port. */
  adminPort?: number;
  nodeId?: string;
  nodeCluster?: string;
  /** For a bootstrap whose xds_cluster speaks TLS: the proxy's certificate and key, and the CA it trusts sluice by. */
  tls?: EnvoyTlsFiles;
}

export interface EnvoyTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export type EnvoyLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';

export interface StartEnvoyOptions {
  /** Defaults to envoy/bootstrap-ads.yaml. */
  bootstrapFile?: string;
  xdsPort: number;
  xdsHost?: string;
  nodeId?: string;
  nodeCluster?: string;
  /** Certificate files for a bootstrap whose xds_cluster speaks TLS (`envoy/bootstrap-ads-mtls.yaml`). */
  tls?: EnvoyTlsFiles;
  /** Defaults to `warning`. */
  logLevel?: EnvoyLogLevel;
}

export interface EnvoyProcess {
  adminUrl: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** GET /config_dump?include_eds[&resource=…] parsed as JSON. */
  configDump(resource?: string): Promise<any>;
  /** Numeric stats whose name matches the RE2 `filter` (partial match), by name. */
  stats(filter: string): Promise<Record<string, number>>;
  /** Resolves once GET /ready says LIVE (Envoy got its first CDS/LDS); throws after timeoutMs. */
  waitLive(timeoutMs?: number): Promise<void>;
  /** The last lines Envoy wrote to stdout/stderr. */
  logs(): string;
}

const SOCKET_ADDRESS = ['load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address'];

/** The bootstrap in `file` with the given values replaced, as YAML (comments kept). */
export function renderBootstrap(file: string, overrides: BootstrapOverrides): string {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const set = (path: (string | number)[], value: string | number | undefined): void => {
    if (value === undefined) return;
    if (!doc.hasIn(path)) throw new Error(`${file}: no ${path.join('.')} to replace`);
    doc.setIn(path, value);
  };

  set(['node', 'id'], overrides.nodeId);
  set(['node', 'cluster'], overrides.nodeCluster);
  set(['admin', 'address', 'socket_address', 'port_value'], overrides.adminPort);

  // The static cluster that reaches sluice: the ADS one, or the per-type services' xds_cluster.
  const adsCluster =
    doc.getIn(['dynamic_resources', 'ads_config', 'grpc_services', 0, 'envoy_grpc', 'cluster_name']) ??
    doc.getIn(['dynamic_resources', 'lds_config', 'api_config_source', 'grpc_services', 0, 'envoy_grpc', 'cluster_name']);
  const clusters = doc.getIn(['static_resources', 'clusters']);
  const index = isSeq(clusters) ? clusters.items.findIndex((c) => isMap(c) && c.get('name') === adsCluster) : -1;
  if (index < 0) throw new Error(`${file}: no static cluster named ${String(adsCluster)} for ads_config`);
  const xdsAddress = ['static_resources', 'clusters', index, ...SOCKET_ADDRESS];
  set([...xdsAddress, 'address'], overrides.xdsHost);
  set([...xdsAddress, 'port_value'], overrides.xdsPort);
  const tlsContext = ['static_resources', 'clusters', index, 'transport_socket', 'typed_config', 'common_tls_context'];
  set([...tlsContext, 'tls_certificates', 0, 'certificate_chain', 'filename'], overrides.tls?.certFile);
  set([...tlsContext, 'tls_certificates', 0, 'private_key', 'filename'], overrides.tls?.keyFile);
  set([...tlsContext, 'validation_context', 'trusted_ca', 'filename'], overrides.tls?.caFile);
  return doc.toString();
}

function lineBuffer(limit: number): { push(chunk: Buffer): void; text(): string } {
  const lines: string[] = [];
  let partial = '';
  return {
    push(chunk) {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length > limit) lines.splice(0, lines.length - limit);
    },
    text: () => [...lines, partial].join('\n').trimEnd(),
  };
}

// Envoys still running when the test worker exits are killed, so none is ever left behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startEnvoy(options: StartEnvoyOptions): Promise<EnvoyProcess> {
  const binary = envoyBinary();
  const bootstrapFile = options.bootstrapFile ?? DEFAULT_BOOTSTRAP;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-envoy-'));
  const bootstrapPath = join(dir, 'bootstrap.yaml');
  const adminAddressPath = join(dir, 'admin-address');
  await writeFile(
    bootstrapPath,
    renderBootstrap(bootstrapFile, {
      xdsHost: options.xdsHost ?? '127.0.0.1',
      xdsPort: options.xdsPort,
      adminPort: 0,
      nodeId: options.nodeId,
      nodeCluster: options.nodeCluster,
      ...(options.tls ? { tls: options.tls } : {}),
    }),
  );

  // Admin port 0 + --admin-address-path: Envoy binds a free port itself and tells us which.
  const args = ['-c', bootstrapPath, '--disable-hot-restart', '--drain-time-s', '1'];
  args.push('-l', options.logLevel ?? 'warning', '--admin-address-path', adminAddressPath);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const output = lineBuffer(LOG_LINES_KEPT);
  child.stdout.on('data', output.push);
  child.stderr.on('data', output.push);
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      exitStatus = `failed to spawn: ${err.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitStatus = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
  }).finally(() => running.delete(child));

  const failure = (what: string): Error =>
    new Error(`Envoy (pid ${child.pid ?? '-'}, from ${bootstrapFile}) ${what}. Last output:\n${output.text()}`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitStatus === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const adminUrl = await waitForAdmin(adminAddressPath, () => exitStatus).catch(async (err: Error) => {
    const status = exitStatus;
    await stop();
    throw failure(status ? `${status} before its admin interface answered` : err.message);
  });

  const admin = async (path: string): Promise<Response> => {
    const res = await fetch(`${adminUrl}${path}`);
    if (!res.ok) throw new Error(`GET ${path} on Envoy admin: ${res.status} ${await res.text()}`);
    return res;
  };

  return {
    adminUrl,
    pid: child.pid ?? -1,
    stop,
    logs: output.text,
    configDump: async (resource) => {
      const query = resource === undefined ? '' : `&resource=${encodeURIComponent(resource)}`;
      return (await admin(`/config_dump?include_eds${query}`)).json();
    },
    stats: async (filter) => {
      const body = (await (await admin(`/stats?format=json&filter=${encodeURIComponent(filter)}`)).json()) as {
        stats?: { name?: string; value?: unknown }[];
      };
      const result: Record<string, number> = {};
      for (const { name, value } of body.stats ?? []) {
        if (name !== undefined && typeof value === 'number') result[name] = value;
      }
      return result;
    },
    waitLive: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      let state = 'no answer';
      while (exitStatus === undefined) {
        const res = await fetch(`${adminUrl}/ready`).catch(() => undefined);
        if (res) state = `${res.status} ${(await res.text()).trim()}`;
        if (res?.status === 200) return;
        if (Date.now() >= deadline) throw failure(`not LIVE after ${timeoutMs} ms (/ready: ${state})`);
        await sleep(POLL_MS);
      }
      throw failure(`${exitStatus} while waiting to be LIVE`);
    },
  };
}

/** Waits until Envoy has written its admin address and the admin answers any HTTP request. */
async function waitForAdmin(addressPath: string, exitStatus: () => string | undefined): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (exitStatus() === undefined && Date.now() < deadline) {
    const address = (await readFile(addressPath, 'utf8').catch(() => '')).trim();
    if (address !== '') {
      const url = `http://${address}`;
      const answered = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1_000) }).then(
        async (res) => (await res.arrayBuffer(), true),
        () => false,
      );
      if (answered) return url;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`admin interface did not answer within ${START_TIMEOUT_MS} ms`);
}
