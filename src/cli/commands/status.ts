// `sluice status [SERVICE]`: the services with their weights and stable versions (or one service
// with its versions and endpoints) and every connected proxy with the revision it applied, and
// under them the proxies' warnings (misconfigured Envoys).
// Read-only: GET /v1/services[/{name}] and GET /v1/proxies.

import type { Endpoint, Service } from '../../model/types.js';
import type { ProxyReport } from '../../sync/proxy-report.js';
import { EXIT_OK, usageError, type ExitCode } from '../cli-error.js';
import { formatWeights, table } from '../output.js';
import type { Command, CommandContext } from './command.js';

type Revisioned<T> = T & { revision: number };

function endpointText({ address, port }: Endpoint): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function clientText(proxy: ProxyReport): string {
  return proxy.envoyVersion ? `envoy ${proxy.envoyVersion}` : `${proxy.userAgent} ${proxy.clientVersion}`.trim() || '-';
}

function lastNacks(proxy: ProxyReport): string {
  const nacks = Object.entries(proxy.resources).flatMap(([type, status]) => (status.lastNack ? [`${type}: ${status.lastNack.message}`] : []));
  return nacks.length === 0 ? '-' : nacks.join('; ');
}

/** One line per warning, named by proxy and code; nothing when there is none (older servers send none). */
function warningLines(proxies: ProxyReport[]): string[] {
  const lines = proxies.flatMap((p) => (p.warnings ?? []).map((w) => `  ${p.node.id}: ${w.code}: ${w.message}`));
  return lines.length === 0 ? [] : ['', `warnings (${lines.length}):`, ...lines];
}

function proxyLines(proxies: ProxyReport[]): string[] {
  if (proxies.length === 0) return ['no proxies connected'];
  const inSync = proxies.filter((p) => p.inSync).length;
  return [
    ...table(
      ['PROXY', 'CLIENT', 'APPLIED', 'IN SYNC', 'LAST NACK'],
      proxies.map((p) => [p.node.id, clientText(p), p.appliedRevision === null ? '-' : String(p.appliedRevision), p.inSync ? 'yes' : 'no', lastNacks(p)]),
    ),
    `${inSync} of ${proxies.length} proxies in sync`,
    ...warningLines(proxies),
  ];
}

function serviceLines(service: Service, revision: number): string[] {
  return [
    `service ${service.name} at revision ${revision}: listener ${service.listener}, prefix ${service.match.prefix}, hosts ${service.hosts.join(' ')}`,
    '',
    ...table(
      ['VERSION', 'WEIGHT', 'STABLE', 'ENDPOINTS'],
      service.versions.map((v) => [v.name, `${service.weights[v.name] ?? 0}%`, v.name === service.stable ? 'yes' : '', v.endpoints.map(endpointText).join(', ')]),
    ),
  ];
}

function servicesLines(services: Service[]): string[] {
  if (services.length === 0) return ['no services'];
  return table(
    ['SERVICE', 'STABLE', 'WEIGHTS', 'LISTENER', 'PREFIX'],
    services.map((s) => [s.name, s.stable, formatWeights(s.weights), s.listener, s.match.prefix]),
  );
}

async function run({ args, client, out }: CommandContext): Promise<ExitCode> {
  if (args.length > 1) throw usageError('status takes at most one service name');
  const name = args[0];
  const proxiesRequest = client.request<{ proxies: ProxyReport[] }>('GET', '/v1/proxies');
  if (name === undefined) {
    const [{ revision, services }, { proxies }] = await Promise.all([
      client.request<Revisioned<{ services: Service[] }>>('GET', '/v1/services'),
      proxiesRequest,
    ]);
    if (out.json) out.printJson({ revision, services, proxies });
    else out.lines([`sluice at ${client.server}, revision ${revision}`, '', ...servicesLines(services), '', ...proxyLines(proxies)]);
  } else {
    const [{ revision, ...service }, { proxies }] = await Promise.all([
      client.request<Revisioned<Service>>('GET', `/v1/services/${encodeURIComponent(name)}`),
      proxiesRequest,
    ]);
    if (out.json) out.printJson({ revision, service, proxies });
    else out.lines([...serviceLines(service, revision), '', ...proxyLines(proxies)]);
  }
  return EXIT_OK;
}

export const statusCommand: Command = {
  name: 'status',
  synopsis: 'status [SERVICE]',
  summary: 'services, their weights and stable versions; which proxies are in sync',
  options: [],
  run,
};
