// Refuses requests whose Host header names a host the admin API is not served under, reads
// included: a page on an attacker's name that resolves to 127.0.0.1 (DNS rebinding) sends its own
// name. Only the name is compared, not the port (a port-forward changes it). /healthz and /readyz
// answer under any host: Kubernetes probes send the pod's address. Decides nothing else.

import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../errors.js';

/** Paths answered whatever the Host (probes carry no state). */
const ANY_HOST_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

export const LOOPBACK_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** Addresses that bind every interface: no name to answer under. */
const WILDCARD_ADDRESSES: ReadonlySet<string> = new Set(['0.0.0.0', '::', '[::]']);

/** A host name or address as compared: lower case, no brackets, no trailing dot. */
export function normalHostName(name: string): string {
  const lower = name.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/** The names the admin API answers under: loopback, the bind address unless a wildcard, and `extra`. */
export function adminHostNames(bindAddress: string, extra: readonly string[]): string[] {
  const bound = WILDCARD_ADDRESSES.has(bindAddress) ? [] : [bindAddress];
  return [...new Set([...LOOPBACK_HOST_NAMES, ...bound, ...extra].map(normalHostName))];
}

/** The host name of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), undefined when malformed. */
export function hostNameOf(header: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return match === null ? undefined : normalHostName(match[1]!);
}

/** Whether the guard checks the Host of requests to this route pattern (or path). */
export function checksHost(url: string): boolean {
  return !ANY_HOST_PATHS.has(url);
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function requireKnownHost(app: FastifyInstance, names: readonly string[]): void {
  const allowed = new Set(names.map(normalHostName));
  // onRequest, before the other guards: nothing else is done for a request under a strange name.
  app.addHook('onRequest', async (request) => {
    if (!checksHost(pathOf(request.url))) return;
    const header = request.headers.host;
    const name = header === undefined ? undefined : hostNameOf(header);
    if (name !== undefined && allowed.has(name)) return;
    request.log.warn({ method: request.method, ip: request.ip }, 'admin call refused: unknown Host header');
    throw new SluiceError(
      'SLUICE_UNKNOWN_HOST',
      'The admin API is not served under this host name. Reach it by a loopback address or a name given with --admin-host-name.',
    );
  });
}
