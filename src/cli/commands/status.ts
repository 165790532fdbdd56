// `sluice status [SERVICE]`: the services with their weights, stable versions, on how many
// proxies each is in sync and their active rollouts (or one service with its versions and endpoints), every connected proxy
// with the revision it applied, and under them what proxies reject (Envoy's message, the suspect
// services and listeners), the changes held back for them, and their warnings (misconfigured Envoys).
// Read-only: GET /v1/services[/{name}], GET /v1/proxies and GET /v1/rollouts.

import type { Endpoint, Service } from '../../model/types.js';
import type { ServiceAnswer, ServicesAnswer } from '../../api/desired-state.js';
import type { ProxiesAnswer, ProxyReport } from '../../api/fleet.js';
import type { RolloutListAnswer, RolloutSummary } from '../../api/rollouts.js';
import { EXIT_OK, usageError, type ExitCode } from '../cli-error.js';
import { formatWeights, table } from '../output.js';
import { rolloutSummary } from '../rollout-view.js';
import type { Command, CommandContext } from './command.js';

function endpointText({ address, port }: Endpoint): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

function clientText(proxy: ProxyReport): string {
  return proxy.envoyVersion ? `envoy ${proxy.envoyVersion}` : `${proxy.userAgent} ${proxy.clientVersion}`.trim() || '-';
}

function rejectedTypes(proxy: ProxyReport): string {
  const types = (proxy.rejected ?? []).map((rejection) => rejection.type);
  return types.length === 0 ? '-' : types.join(', ');
}

/** One line per rejected resource type, with the suspects and Envoy's message. */
function rejectionLines(proxies: ProxyReport[]): string[] {
  const lines = proxies.flatMap((p) =>
    (p.rejected ?? []).map((r) => {
      const suspects = [...r.services.map((name) => `service ${name}`), ...r.listeners.map((name) => `listener ${name}`)];
      return `  ${p.node.id} rejects ${r.type}${suspects.length > 0 ? ` (changed: ${suspects.join(', ')})` : ''}: ${r.message}`;
    }),
  );
  return lines.length === 0 ? [] : ['', `rejected (${lines.length}):`, ...lines];
}

/** One line per change held back for a proxy that rejected it. */
function heldLines(proxies: ProxyReport[]): string[] {
  const lines = proxies.flatMap((p) =>
    (p.held ?? []).map((h) => `  ${p.node.id}: ${h.unit} ${h.name} held as before revision ${h.since} (it rejected ${h.type}: ${h.message.trim()}); it gets every other change`),
  );
  return lines.length === 0 ? [] : ['', `held back (${lines.length}):`, ...lines];
}

/** On how many proxies a service is in sync: "2/3", or "-" when no proxy (or an older server) says. */
function serviceSync(name: string, proxies: ProxyReport[]): string {
  const reporting = proxies.filter((p) => p.services !== undefined);
  if (reporting.length === 0) return '-';
  return `${reporting.filter((p) => p.services?.[name]?.inSync === true).length}/${reporting.length}`;
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
      ['PROXY', 'CLIENT', 'APPLIED', 'IN SYNC', 'REJECTS'],
      proxies.map((p) => [p.node.id, clientText(p), p.appliedRevision === null ? '-' : String(p.appliedRevision), p.inSync ? 'yes' : 'no', rejectedTypes(p)]),
    ),
    `${inSync} of ${proxies.length} proxies in sync`,
    ...rejectionLines(proxies),
    ...heldLines(proxies),
    ...warningLines(proxies),
  ];
}

function serviceLines(service: Service, revision: number, proxies: ProxyReport[]): string[] {
  return [
    `service ${service.name} at revision ${revision}: listener ${service.listener}, prefix ${service.match.prefix}, hosts ${service.hosts.join(' ')}`,
    `in sync on ${serviceSync(service.name, proxies)} proxies`,
    '',
    ...table(
      ['VERSION', 'WEIGHT', 'STABLE', 'ENDPOINTS'],
      service.versions.map((v) => [v.name, `${service.weights[v.name] ?? 0}%`, v.name === service.stable ? 'yes' : '', v.endpoints.map(endpointText).join(', ')]),
    ),
  ];
}

function servicesLines(services: Service[], proxies: ProxyReport[], rollouts: RolloutSummary[]): string[] {
  if (services.length === 0) return ['no services'];
  const now = Date.now();
  const active = new Map(rollouts.map((r) => [r.service, rolloutSummary(r, now)]));
  return table(
    ['SERVICE', 'STABLE', 'WEIGHTS', 'LISTENER', 'PREFIX', 'IN SYNC', 'ROLLOUT'],
    services.map((s) => [s.name, s.stable, formatWeights(s.weights), s.listener, s.match.prefix, serviceSync(s.name, proxies), active.get(s.name) ?? '-']),
  );
}

async function run({ args, client, out }: CommandContext): Promise<ExitCode> {
  if (args.length > 1) throw usageError('status takes at most one service name');
  const name = args[0];
  const proxiesRequest = client.request<ProxiesAnswer>('GET', '/v1/proxies');
  if (name === undefined) {
    const [{ revision, services }, { proxies }, { rollouts }] = await Promise.all([
      client.request<ServicesAnswer>('GET', '/v1/services'),
      proxiesRequest,
      client.request<RolloutListAnswer>('GET', '/v1/rollouts?active=true'),
    ]);
    if (out.json) out.printJson({ revision, services, proxies, rollouts });
    else out.lines([`sluice at ${client.server}, revision ${revision}`, '', ...servicesLines(services, proxies, rollouts), '', ...proxyLines(proxies)]);
  } else {
    const [{ revision, ...service }, { proxies }] = await Promise.all([
      client.request<ServiceAnswer>('GET', `/v1/services/${encodeURIComponent(name)}`),
      proxiesRequest,
    ]);
    if (out.json) out.printJson({ revision, service, proxies });
    else out.lines([...serviceLines(service, revision, proxies), '', ...proxyLines(proxies)]);
  }
  return EXIT_OK;
}

export const statusCommand: Command = {
  name: 'status',
  synopsis: 'status [SERVICE]',
  summary: 'services, their weights and stable versions; which proxies are in sync and what they reject',
  options: [],
  run,
};
