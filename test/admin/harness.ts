// Test harness for the admin API: a real SQLite file in a fresh temp dir, a store over it and an
// admin app driven through inject(). Log lines are kept as parsed JSON for assertions.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { ProxyReport } from '../../src/api/fleet.js';
import { buildAdminApp, type AdminDeps } from '../../src/admin/app.js';
import type { DesiredState } from '../../src/model/types.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';

export const INITIAL_STATE: DesiredState = {
  revision: 0,
  listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
  services: {},
};

/** The PRODUCT.md seed service, without its optional traffic policies (affinity, mirror). */
export function predictBody(): Record<string, unknown> {
  return {
    listener: 'default',
    match: { prefix: '/predict' },
    hosts: ['*'],
    versions: [
      { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
      { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
    ],
    weights: { blue: 100, green: 0 },
    stable: 'blue',
    pinHeader: 'x-sluice-version',
    timeout: '30s',
  };
}

export interface Harness {
  app: FastifyInstance;
  store: Store;
  dbFile: string;
  logs: Record<string, unknown>[];
  ready: { value: boolean };
  proxies: ProxyReport[];
  /** Closes app and store; the database file stays until cleanup(). */
  close(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The optional admin dependencies (auth, rate limit, body limit, …) a test may add. */
type OptionalDeps = Omit<AdminDeps, 'store' | 'fleet' | 'logger' | 'isReady'>;

export async function openHarness(
  options: { dir?: string; deps?: OptionalDeps; beforeReady?: (app: FastifyInstance) => void } = {},
): Promise<Harness> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sluice-admin-'));
  const dbFile = join(dir, 'state.db');
  const store = await Store.open(SqliteAdapter.open(dbFile), { initialState: INITIAL_STATE });
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const ready = { value: true };
  const proxies: ProxyReport[] = [];
  const app = buildAdminApp({
    store,
    fleet: { list: () => proxies },
    logger,
    isReady: () => ready.value,
    ...options.deps,
  });
  options.beforeReady?.(app);
  await app.ready();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.close();
    await store.close();
  };
  return {
    app,
    store,
    dbFile,
    logs,
    ready,
    proxies,
    close,
    cleanup: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends a JSON body the way `curl -d @file.json` does (form content type) unless told otherwise. */
export function send(
  app: FastifyInstance,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method,
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}
