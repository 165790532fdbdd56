// sluice under test. Normally its own child process (`node bin/sluice.js serve`, temp state,
// loopback, free ports) so that nothing the benchmark does runs on sluice's event loop; in light
// mode (the smoke test) startSluice() in this process instead. Also the handle every server under
// test shares, and the child supervision the peer (peer-process.ts) reuses.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AdminClient } from './admin-client.js';
import { REPO_ROOT, now, sleep } from './util.js';

/** Which control plane runs under test: sluice, or the go-control-plane peer (bench/peer). */
export type ServerKind = 'sluice' | 'peer';

/** The Prometheus series holding sluice's live heap (V8 heap used). */
const SLUICE_HEAP_METRIC = 'nodejs_heap_size_used_bytes';

/** A control plane under test (sluice or the peer: the benchmarks drive either the same way). */
export interface ServerHandle {
  server: ServerKind;
  admin: AdminClient;
  /** host:port of the xDS gRPC server. */
  xdsAddress: string;
  xdsPort: number;
  /** Port of the `default` listener sluice creates for Envoy on first start. */
  listenerPort: number;
  statePath: string;
  /** Child process id; undefined in light mode. */
  pid: number | undefined;
  /** From spawn to the first 200 on /readyz, in ms. */
  readyMs: number;
  /** The /metrics series of the server's live heap. */
  heapMetric: string;
  /** Asks the server for a full garbage collection (only when spawned with `gcOnSignal`). */
  gc(): void;
  /** Lines the server logged at error level or worse (pino level ≥ 50). */
  errorLines(): string[];
  /** Stops the server (SIGTERM, SIGKILL after 10 s, 120 s when profiling); keeps the state file unless `removeState`. */
  stop(options?: { removeState?: boolean }): Promise<void>;
}

export interface SpawnOptions {
  /** Reuse a state file (e.g. to restart on it); a fresh temp one otherwise. */
  statePath?: string;
  listenerPort?: number;
  /** Extra flags for node, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  nodeArgs?: string[];
  /** The sluice entry point; default <repo>/bin/sluice.js (SLUICE_BENCH_BIN overrides it). */
  bin?: string;
  readyTimeoutMs?: number;
  /** Preload bench/lib/gc-on-signal (node --expose-gc): `gc()` then collects garbage in sluice. */
  gcOnSignal?: boolean;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

function stateFile(): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  return { path: join(dir, 'sluice.db'), dir };
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function spawnSluice(options: SpawnOptions = {}): Promise<ServerHandle> {
  const fresh = options.statePath === undefined ? stateFile() : undefined;
  const statePath = options.statePath ?? fresh!.path;
  const [xdsPort, adminPort] = [await freePort(), await freePort()];
  const listenerPort = options.listenerPort ?? (await freePort());
  const bin = options.bin ?? process.env['SLUICE_BENCH_BIN'] ?? join(REPO_ROOT, 'bin', 'sluice.js');
  const gcPreload = fileURLToPath(new URL('./gc-on-signal.js', import.meta.url));
  const args = [
    ...(options.gcOnSignal ? ['--expose-gc', '--import', pathToFileURL(gcPreload).href] : []),
    ...(options.nodeArgs ?? []),
    bin,
    'serve',
    '--xds-host', '127.0.0.1',
    '--xds-port', String(xdsPort),
    '--admin-port', String(adminPort),
    '--listener-port', String(listenerPort),
    '--state', statePath,
    '--log-level', 'warn',
    // Every simulated Envoy connects from 127.0.0.1: the default of 1,000 streams per address
    // would refuse all beyond the first thousand (the peer has no such limit).
    '--xds-max-streams-per-peer', '20000',
  ];
  // A CPU profile is written on exit and takes a while for a long run.
  const profiling = (options.nodeArgs ?? []).some((arg) => arg.startsWith('--cpu-prof'));
  return superviseChild({
    server: 'sluice',
    command: process.execPath,
    args,
    ports: { xdsPort, adminPort, listenerPort },
    statePath,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    stopTimeoutMs: profiling ? 120_000 : 10_000,
    gcOnSignal: options.gcOnSignal ?? false,
    heapMetric: SLUICE_HEAP_METRIC,
    removeState: () => {
      if (fresh) rmSync(fresh.dir, { recursive: true, force: true });
      else for (const suffix of ['', '-wal', '-shm']) rmSync(`${statePath}${suffix}`, { force: true });
    },
  });
}

export interface ChildServer {
  server: ServerKind;
  command: string;
  args: string[];
  ports: { xdsPort: number; adminPort: number; listenerPort: number };
  statePath: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  gcOnSignal: boolean;
  heapMetric: string;
  removeState: () => void;
}

/**
 * Spawns a server under test, counts the lines it logs at error level (pino-style JSON `level` ≥ 50,
 * or any line that is not JSON), waits for its /readyz and gives the handle that stops it.
 */
export async function superviseChild(spec: ChildServer): Promise<ServerHandle> {
  const started = now();
  const child = spawn(spec.command, spec.args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const errors: string[] = [];
  let tail = '';
  const onOutput = (chunk: Buffer): void => {
    const lines = (tail + chunk.toString('utf8')).split('\n');
    tail = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let level = 0;
      try {
        level = Number((JSON.parse(line) as { level?: number }).level ?? 0);
      } catch {
        level = 50; // not JSON: a crash or a warning from the runtime itself
      }
      if (level >= 50 && errors.length < 100) errors.push(line);
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with ${code}`;
      running.delete(child);
      resolve();
    });
  });

  const admin = new AdminClient(`http://127.0.0.1:${spec.ports.adminPort}`);
  const deadline = started + spec.readyTimeoutMs;
  let readyMs = Number.NaN;
  while (exited === undefined) {
    const ok = await fetch(`${admin.baseUrl}/readyz`).then(
      (res) => res.arrayBuffer().then(() => res.status === 200),
      () => false,
    );
    if (ok) {
      readyMs = now() - started;
      break;
    }
    if (now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.server} not ready within ${spec.readyTimeoutMs} ms: ${errors.join('\n')}`);
    }
    await sleep(2);
  }
  if (exited !== undefined) throw new Error(`${spec.server} ${exited} before it was ready: ${[...errors, tail].join('\n')}`);

  return {
    server: spec.server,
    admin,
    xdsAddress: `127.0.0.1:${spec.ports.xdsPort}`,
    xdsPort: spec.ports.xdsPort,
    listenerPort: spec.ports.listenerPort,
    statePath: spec.statePath,
    pid: child.pid,
    readyMs,
    heapMetric: spec.heapMetric,
    errorLines: () => [...errors],
    gc: () => {
      if (!spec.gcOnSignal) throw new Error(`${spec.server} was not started with gcOnSignal`);
      child.kill('SIGUSR2');
    },
    async stop({ removeState = false } = {}) {
      if (exited === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), spec.stopTimeoutMs);
        await exit;
        clearTimeout(killer);
      }
      if (removeState) spec.removeState();
    },
  };
}

/** Light mode: sluice inside this process, in-memory state (for the smoke test). */
export async function inProcessSluice(): Promise<ServerHandle> {
  const [{ startSluice }, { DEFAULT_CONFIG }, { pino }] = await Promise.all([
    import('../../src/main.js'),
    import('../../src/config/config.js'),
    import('pino'),
  ]);
  const listenerPort = await freePort();
  const started = now();
  const errors: string[] = [];
  const logger = pino({ level: 'error', hooks: { logMethod: (args) => void errors.push(JSON.stringify(args)) } });
  const sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:', listenerPort, logLevel: 'error' },
    logger,
  );
  return {
    server: 'sluice',
    heapMetric: SLUICE_HEAP_METRIC,
    admin: new AdminClient(sluice.adminUrl),
    xdsAddress: `127.0.0.1:${sluice.xdsPort}`,
    xdsPort: sluice.xdsPort,
    listenerPort,
    statePath: ':memory:',
    pid: undefined,
    readyMs: now() - started,
    errorLines: () => [...errors],
    gc: () => (globalThis as { gc?: () => void }).gc?.(),
    stop: () => sluice.stop(),
  };
}
