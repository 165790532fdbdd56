// The simulated Envoys as the coordinator sees them: spread over forked worker processes (never
// in sluice's process, and not in the coordinator's, whose timing must stay undisturbed), or in
// this process in light mode. Same commands either way.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetCore, mergeReports, type ClientTlsFiles, type ConnectResult, type FleetReport } from './fleet-core.js';
import type { WorkerAnswer, WorkerRequest } from './fleet-worker.js';
import type { XdsMode } from './sim-envoy.js';
import { REPO_ROOT } from './util.js';

export interface FleetOptions {
  address: string;
  mode: XdsMode;
  size: number;
  /** Node id prefix; ids are `${prefix}${i}`. */
  prefix?: string;
  /** Worker processes (default: one per 2500 clients, at most 4); ignored in light mode. */
  workers?: number;
  light?: boolean;
  /** Clients connecting at the same time per process (default 100). */
  concurrency?: number;
  /** Clients connect over TLS with this certificate; plaintext without. */
  tls?: ClientTlsFiles;
  /** Each client's node cluster is its node id instead of the shared `bench`. */
  ownNodeClusters?: boolean;
}

export interface Fleet {
  readonly size: number;
  /** Connects every client, each until it has ACKed all four types. */
  connect(timeoutMs?: number): Promise<ConnectResult>;
  /** Starts a measurement: every client forgets its previous time stamps. */
  mark(): Promise<void>;
  report(): Promise<FleetReport>;
  drop(): Promise<void>;
  reconnect(): Promise<void>;
  /** Every client drops its connection and reconnects at once. */
  churn(): Promise<void>;
  close(): Promise<void>;
}

function workerScript(): string {
  // Compiled (dist/bench/lib) next to this module; from the sources (vitest) use the build output.
  const here = fileURLToPath(new URL('./fleet-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = join(REPO_ROOT, 'dist', 'bench', 'lib', 'fleet-worker.js');
  if (existsSync(built)) return built;
  throw new Error('the client worker is not built: run `npm run bench:build`');
}

class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private exited: string | undefined;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (answer: WorkerAnswer) => {
      const waiter = this.pending.get(answer.id);
      if (!waiter) return;
      this.pending.delete(answer.id);
      if (answer.ok) waiter.resolve(answer.result);
      else waiter.reject(new Error(answer.error));
    });
    child.once('exit', (code, signal) => {
      this.exited = `client worker ${child.pid} ${signal ? `killed by ${signal}` : `exited with ${code}`}`;
      for (const waiter of this.pending.values()) waiter.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  call<T>(command: WorkerRequest): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call({ cmd: 'close' }).catch(() => undefined);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(killer);
  }
}

class ForkedFleet implements Fleet {
  private readonly workers: Worker[];
  private readonly shares: number[];

  constructor(private readonly options: FleetOptions) {
    const count = Math.max(1, Math.min(options.size, options.workers ?? Math.min(4, Math.ceil(options.size / 2500))));
    const script = workerScript();
    this.workers = Array.from({ length: count }, () => new Worker(fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] })));
    this.shares = this.workers.map((_, i) => Math.floor(options.size / count) + (i < options.size % count ? 1 : 0));
  }

  get size(): number {
    return this.options.size;
  }

  async connect(timeoutMs = 60_000): Promise<ConnectResult> {
    let first = 0;
    const results = await Promise.all(
      this.workers.map((worker, i) => {
        const args = {
          address: this.options.address,
          mode: this.options.mode,
          prefix: this.options.prefix ?? `sim-${this.options.mode}-`,
          first,
          count: this.shares[i]!,
          concurrency: this.options.concurrency ?? 100,
          timeoutMs,
          ...(this.options.tls ? { tls: this.options.tls } : {}),
          ...(this.options.ownNodeClusters ? { ownNodeClusters: true } : {}),
        };
        first += args.count;
        return worker.call<ConnectResult>({ cmd: 'connect', args });
      }),
    );
    return {
      connected: results.reduce((sum, r) => sum + r.connected, 0),
      failed: results.reduce((sum, r) => sum + r.failed, 0),
      failures: results.flatMap((r) => r.failures).slice(0, 5),
      ms: Math.max(...results.map((r) => r.ms)),
    };
  }

  private async all<T>(cmd: 'mark' | 'report' | 'drop' | 'reconnect' | 'churn'): Promise<T[]> {
    return Promise.all(this.workers.map((worker) => worker.call<T>({ cmd })));
  }

  async mark(): Promise<void> {
    await this.all('mark');
  }

  async report(): Promise<FleetReport> {
    return mergeReports(await this.all<FleetReport>('report'));
  }

  async drop(): Promise<void> {
    await this.all('drop');
  }

  async reconnect(): Promise<void> {
    await this.all('reconnect');
  }

  async churn(): Promise<void> {
    await this.all('churn');
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}

class InProcessFleet implements Fleet {
  private readonly core = new FleetCore();

  constructor(private readonly options: FleetOptions) {}

  get size(): number {
    return this.options.size;
  }

  connect(timeoutMs = 60_000): Promise<ConnectResult> {
    return this.core.connect({
      address: this.options.address,
      mode: this.options.mode,
      prefix: this.options.prefix ?? `sim-${this.options.mode}-`,
      first: 0,
      count: this.options.size,
      concurrency: this.options.concurrency ?? 100,
      timeoutMs,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...(this.options.ownNodeClusters ? { ownNodeClusters: true } : {}),
    });
  }

  async mark(): Promise<void> {
    this.core.mark();
  }

  async report(): Promise<FleetReport> {
    return this.core.report();
  }

  async drop(): Promise<void> {
    this.core.drop();
  }

  async reconnect(): Promise<void> {
    this.core.reconnect();
  }

  async churn(): Promise<void> {
    this.core.churn();
  }

  async close(): Promise<void> {
    this.core.close();
  }
}

export function startFleet(options: FleetOptions): Fleet {
  return options.light ? new InProcessFleet(options) : new ForkedFleet(options);
}
