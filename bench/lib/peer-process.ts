// The go-control-plane peer under test (bench/peer, Go): built into dist/bench/peer/peer when its
// sources are newer than the binary, then started like sluice — its own process, loopback, free
// ports — behind the same handle. Go fetches the peer's modules itself on the first build.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, superviseChild, type ServerHandle } from './sluice-process.js';
import { REPO_ROOT, now } from './util.js';

export const PEER_SOURCE_DIR = join(REPO_ROOT, 'bench', 'peer');
export const PEER_BINARY = join(REPO_ROOT, 'dist', 'bench', 'peer', 'peer');

/** The series of the peer's live heap (Go's heap in use by reachable and not yet swept objects). */
const PEER_HEAP_METRIC = 'go_memstats_heap_alloc_bytes';

function newestSource(): number {
  return Math.max(...readdirSync(PEER_SOURCE_DIR).filter((name) => /\.go$|^go\.(mod|sum)$/.test(name)).map((name) => statSync(join(PEER_SOURCE_DIR, name)).mtimeMs));
}

/** Builds the peer when its binary is missing or older than a source; returns the build's time in ms (0 when up to date). */
export function buildPeer(log: (line: string) => void = () => undefined): number {
  if (existsSync(PEER_BINARY) && statSync(PEER_BINARY).mtimeMs >= newestSource()) return 0;
  const started = now();
  log(`building the go-control-plane peer (${PEER_BINARY})`);
  execFileSync('go', ['build', '-trimpath', '-buildvcs=false', '-o', PEER_BINARY, '.'], { cwd: PEER_SOURCE_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  return now() - started;
}

export interface PeerOptions {
  /** Lets `gc()` collect garbage in the peer (SIGUSR2; the peer always listens for it). */
  gcOnSignal?: boolean;
  readyTimeoutMs?: number;
}

export async function spawnPeer(options: PeerOptions = {}): Promise<ServerHandle> {
  buildPeer((line) => process.stderr.write(`${line}\n`));
  const [xdsPort, adminPort, listenerPort] = [await freePort(), await freePort(), await freePort()];
  return superviseChild({
    server: 'peer',
    command: PEER_BINARY,
    args: ['--xds-host', '127.0.0.1', '--xds-port', String(xdsPort), '--admin-port', String(adminPort), '--listener-port', String(listenerPort)],
    ports: { xdsPort, adminPort, listenerPort },
    statePath: '',
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    stopTimeoutMs: 10_000,
    gcOnSignal: options.gcOnSignal ?? false,
    heapMetric: PEER_HEAP_METRIC,
    removeState: () => undefined,
  });
}
