// A throwaway PostgreSQL server for tests, from Debian's binaries: initdb into a temp folder,
// start on a free loopback port, stop and delete on `stop()`. As root it runs the server as the
// `postgres` user (PostgreSQL refuses root). Never skips: a missing binary is a thrown error.

import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no PostgreSQL server binaries in /usr/lib/postgresql: run `bash scripts/install-postgres.sh`');
  return join(base, newest, 'bin');
}

export interface PostgresServer {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /**
   * Stops the server, keeping its data: `fast` (the default) ends sessions with an error message,
   * `immediate` drops them mid-query as a crash would. `start()` brings it back on the same port.
   */
  pause(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  chmodSync(dir, 0o777);
  if (asRoot) {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(uid), Number(gid));
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async (): Promise<void> => {
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  };
  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pause: async (mode = 'fast') => {
      await pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    },
    start,
    stop: async () => {
      await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
