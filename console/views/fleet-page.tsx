// The connected proxies: node id and cluster, Envoy version, the revision each applied and
// whether it is current, per resource type the versions sent and ACKed, and what a proxy rejects
// with Envoy's own message, the changes it rejected that are held back for it (with that
// message) and its warnings.

import type { ProxiesAnswer, ProxyReport } from '../../src/api/fleet.js';
import { useApi } from '../live-data.js';
import { inSyncText } from './overview.js';
import { Problem } from './problem.js';
import { DataTable } from './data-table.js';

const TYPES = ['listeners', 'routes', 'clusters', 'endpoints'];

const short = (version: string | undefined): string => (version === undefined ? '—' : version.length > 10 ? `${version.slice(0, 10)}…` : version);

function Proxy({ proxy }: { proxy: ProxyReport }) {
  return (
    <li class="card" data-node={proxy.node.id}>
      <h2>
        {proxy.node.id} <span class="muted">cluster {proxy.node.cluster}</span>
      </h2>
      <p class="facts">
        {proxy.envoyVersion !== '' ? `Envoy ${proxy.envoyVersion}` : `${proxy.userAgent} ${proxy.clientVersion}`} · applied revision{' '}
        <strong>{proxy.appliedRevision ?? 'none'}</strong> · <span class={proxy.inSync ? 'ok' : 'bad'}>{proxy.inSync ? 'in sync' : 'behind'}</span> ·{' '}
        {proxy.streams.map((stream) => `${stream.aggregated ? 'ADS' : 'per-type'} ${stream.kind}`).join(', ')}
      </p>
      <DataTable columns={['Type', 'Sent', 'ACKed', 'Last NACK']}>
        {TYPES.filter((type) => proxy.resources[type] !== undefined).map((type) => {
          const status = proxy.resources[type]!;
          return (
            <tr key={type}>
              <th scope="row">{type}</th>
              <td>
                <code title={status.sentVersion}>{short(status.sentVersion)}</code>
              </td>
              <td>
                <code title={status.ackedVersion}>{short(status.ackedVersion)}</code>
              </td>
              <td>{status.lastNack === undefined ? '—' : new Date(status.lastNack.at).toLocaleTimeString()}</td>
            </tr>
          );
        })}
      </DataTable>
      {proxy.rejected.length === 0 ? null : (
        <div class="rejections" role="region" aria-label={`Rejections of ${proxy.node.id}`}>
          <h3 class="bad">Rejected</h3>
          <ul>
            {proxy.rejected.map((rejection) => (
              <li key={rejection.type} data-testid="rejection">
                <strong>{rejection.type}</strong> version <code>{short(rejection.version)}</code>
                {rejection.services.length + rejection.listeners.length === 0
                  ? ''
                  : ` (suspects: ${[...rejection.services.map((s) => `service ${s}`), ...rejection.listeners.map((l) => `listener ${l}`)].join(', ')})`}
                <pre class="envoy-message">{rejection.message}</pre>
              </li>
            ))}
          </ul>
        </div>
      )}
      {proxy.held.length === 0 ? null : (
        <>
          <h3 class="bad">Rejected and held back for this proxy</h3>
          <p class="muted">It keeps these as it last accepted them and gets every other change.</p>
          <ul>
            {proxy.held.map((unit) => (
              <li key={`${unit.unit}/${unit.name}`} data-testid="held">
                <strong>
                  {unit.unit} {unit.name}
                </strong>
                : its change of revision {unit.since} was rejected ({unit.type}, {new Date(unit.at).toLocaleTimeString()})
                <pre class="envoy-message">{unit.message}</pre>
              </li>
            ))}
          </ul>
        </>
      )}
      {proxy.warnings.length === 0 ? null : (
        <ul class="warnings">
          {proxy.warnings.map((warning) => (
            <li key={warning.code}>
              <strong>{warning.code}</strong>: {warning.message}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function FleetPage() {
  const proxies = useApi<ProxiesAnswer>('/v1/proxies');
  if (proxies.error !== undefined) return <Problem error={proxies.error} />;
  if (proxies.data === undefined) return <p class="loading">Reading the fleet…</p>;
  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <p class="summary">{inSyncText(proxies.data)}</p>
      {proxies.data.proxies.length === 0 ? <p>No proxy is connected.</p> : null}
      <ul class="cards wide">
        {proxies.data.proxies.map((proxy) => (
          <Proxy key={proxy.node.id} proxy={proxy} />
        ))}
      </ul>
    </section>
  );
}
