// Which control planes a benchmark runs (`--server sluice|peer|both`), how one is started, and the
// sluice/peer ratio of a figure. `both` runs them alternately — sluice, peer, sluice, peer … per
// case and round — so that noise on the shared machine falls on both alike.

import { buildPeer, spawnPeer } from './peer-process.js';
import { inProcessSluice, spawnSluice, type ServerHandle, type ServerKind } from './sluice-process.js';
import { fmt } from './util.js';

export function parseServers(value: string | undefined): ServerKind[] {
  switch (value ?? 'sluice') {
    case 'sluice':
      return ['sluice'];
    case 'peer':
      return ['peer'];
    case 'both':
      return ['sluice', 'peer'];
    default:
      throw new Error(`--server takes sluice, peer or both, not ${value}`);
  }
}

/** Builds what the servers need before any is measured (the peer's binary, when it is out of date). */
export function prepareServers(servers: readonly ServerKind[], log: (line: string) => void): void {
  if (servers.includes('peer')) buildPeer(log);
}

export interface StartOptions {
  /** sluice inside this process (light mode); the peer is always its own process. */
  light?: boolean;
  /** Extra node flags for sluice's process (e.g. --cpu-prof). */
  sluiceNodeArgs?: string[];
  gcOnSignal?: boolean;
}

export function startServer(server: ServerKind, options: StartOptions = {}): Promise<ServerHandle> {
  if (server === 'peer') return spawnPeer({ gcOnSignal: options.gcOnSignal ?? false });
  if (options.light) return inProcessSluice();
  return spawnSluice({ nodeArgs: options.sluiceNodeArgs ?? [], gcOnSignal: options.gcOnSignal ?? false });
}

/** sluice's figure over the peer's (below 1: sluice took less); NaN when either is missing. */
export function ratio(sluice: number, peer: number): number {
  return Number.isFinite(sluice) && Number.isFinite(peer) && peer !== 0 ? sluice / peer : Number.NaN;
}

export function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${fmt(value, 2)}×` : '-';
}
