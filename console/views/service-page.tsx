// One service: its weights (live bar and the editor), promote and rollback behind a confirmation,
// requests and errors per version from the load reports, its versions with endpoints, the pin
// header as a copyable curl, and its traffic policies in words; its rollout panel when it has one.

import type { Static } from '@sinclair/typebox';
import { useState } from 'preact/hooks';
import type { ServiceAnswer, ServiceChangeAnswer, listenerAnswerSchema } from '../../src/api/desired-state.js';
import type { RolloutAnswer } from '../../src/api/rollouts.js';
import { ApiError, send } from '../api.js';
import { useApi } from '../live-data.js';
import { candidateOf } from './overview.js';
import { ConfirmButton } from './confirm-button.js';
import { DataTable } from './data-table.js';
import { Problem } from './problem.js';
import { RolloutPanel } from './rollout-panel.js';
import { TrafficChart } from './traffic-chart.js';
import { affinityText, healthText, mirrorText, ruleText } from './traffic-policy-text.js';
import { WeightBar } from './weight-bar.js';
import { WeightsEditor } from './weights-editor.js';

type ListenerAnswer = Static<typeof listenerAnswerSchema>;

const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '']);

/** The curl that sends a request to `version` through a proxy, by the service's pin header. */
export function pinCurl(service: ServiceAnswer, listener: ListenerAnswer | undefined, version: string): string {
  const host = listener === undefined || WILDCARD_ADDRESSES.has(listener.address) ? location.hostname : listener.address;
  const port = listener?.port ?? 8080;
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const named = service.hosts.find((name) => name !== '*' && !name.includes('*'));
  const hostHeader = named === undefined ? '' : ` -H 'host: ${named}'`;
  return `curl -H '${service.pinHeader}: ${version}'${hostHeader} http://${authority}${service.match.prefix}`;
}

function PinHeader({ service }: { service: ServiceAnswer }) {
  const listener = useApi<ListenerAnswer>(`/v1/listeners/${encodeURIComponent(service.listener)}`);
  const [version, setVersion] = useState(service.versions[0]?.name ?? '');
  const [copied, setCopied] = useState(false);
  const command = pinCurl(service, listener.data, version);
  return (
    <div class="pin">
      <p>
        A request with the header <code>{service.pinHeader}: &lt;version&gt;</code> goes to that version whatever the weights.
      </p>
      <label for="pin-version">Version</label>{' '}
      <select id="pin-version" value={version} onChange={(event) => setVersion(event.currentTarget.value)}>
        {service.versions.map((v) => (
          <option key={v.name} value={v.name}>
            {v.name}
          </option>
        ))}
      </select>
      <pre data-testid="pin-curl">{command}</pre>
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard.writeText(command).then(() => setCopied(true));
        }}
      >
        Copy curl
      </button>{' '}
      {copied ? <span role="status">Copied.</span> : null}
    </div>
  );
}

function Actions({ service, candidate, changed }: { service: ServiceAnswer; candidate: string | undefined; changed(): void }) {
  const others = service.versions.map((version) => version.name).filter((name) => name !== service.stable);
  const [target, setTarget] = useState(candidate ?? others[0] ?? service.stable);
  const [result, setResult] = useState<string | undefined>(undefined);
  const base = `/v1/services/${encodeURIComponent(service.name)}`;
  const report = (answer: ServiceChangeAnswer): void => {
    setResult(
      `${answer.unchanged ? 'Nothing changed' : `Revision ${answer.revision}`}.${answer.abortedRollout === undefined ? '' : ` The rollout to ${answer.abortedRollout.candidate} was aborted.`}`,
    );
    changed();
  };
  return (
    <div class="actions">
      <label for="promote-version">Promote</label>{' '}
      <select id="promote-version" value={target} onChange={(event) => setTarget(event.currentTarget.value)}>
        {service.versions.map((version) => (
          <option key={version.name} value={version.name}>
            {version.name}
          </option>
        ))}
      </select>{' '}
      <ConfirmButton
        label="Promote"
        consequence={`All traffic goes to ${target}, which becomes stable.`}
        action={async () => report(await send<ServiceChangeAnswer>('POST', `${base}/promote`, { body: { version: target }, ifMatch: service.revision }))}
      />
      <ConfirmButton
        label="Roll back"
        danger
        consequence={`All traffic goes back to ${service.stable} (stable) in one push; an active rollout is aborted.`}
        action={async () => report(await send<ServiceChangeAnswer>('POST', `${base}/rollback`, { ifMatch: service.revision }))}
      />
      {result === undefined ? null : (
        <span class="ok" role="status">
          {result}
        </span>
      )}
    </div>
  );
}

export function ServicePage({ name }: { name: string }) {
  const path = `/v1/services/${encodeURIComponent(name)}`;
  const service = useApi<ServiceAnswer>(path);
  const rollout = useApi<RolloutAnswer>(`${path}/rollout`);
  if (service.error !== undefined) return <Problem error={service.error} />;
  if (service.data === undefined) return <p class="loading">Reading {name}…</p>;
  const data = service.data;
  const hasRollout = rollout.data !== undefined && rollout.data.service === name;
  const noRollout = rollout.error instanceof ApiError && rollout.error.code === 'SLUICE_ROLLOUT_NOT_FOUND';
  const changed = (): void => {
    service.reload();
    rollout.reload();
  };
  return (
    <>
      <h1>
        {data.name} <span class="muted">{data.match.prefix}</span>
      </h1>
      <section class="panel" aria-labelledby="weights-title">
        <h2 id="weights-title">Weights</h2>
        <WeightBar versions={data.versions.map((version) => version.name)} weights={data.weights} stable={data.stable} candidate={candidateOf(data, hasRollout ? rollout.data : undefined)} />
        <h3>Set weights</h3>
        <WeightsEditor service={data} changed={changed} />
        <h3>Promote or roll back</h3>
        <Actions service={data} candidate={candidateOf(data, hasRollout ? rollout.data : undefined)} changed={changed} />
      </section>
      {hasRollout ? (
        <RolloutPanel rollout={rollout.data!} changed={changed} />
      ) : rollout.error !== undefined && !noRollout ? (
        <Problem error={rollout.error} />
      ) : null}
      <section class="panel" aria-labelledby="traffic-title">
        <h2 id="traffic-title">Traffic</h2>
        <TrafficChart service={data.name} />
      </section>
      <section class="panel" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <DataTable columns={['Version', 'Endpoints', 'Weight']}>
          {data.versions.map((version) => (
            <tr key={version.name}>
              <th scope="row">
                {version.name} {version.name === data.stable ? <span class="tag stable">stable</span> : null}
              </th>
              <td>{version.endpoints.map((endpoint) => `${endpoint.address}:${endpoint.port}`).join(', ')}</td>
              <td>{data.weights[version.name] ?? 0}%</td>
            </tr>
          ))}
        </DataTable>
        <h3>Health</h3>
        {healthText(data).map((line) => (
          <p key={line}>{line}</p>
        ))}
      </section>
      <section class="panel" aria-labelledby="pin-title">
        <h2 id="pin-title">Test a version</h2>
        <PinHeader service={data} />
      </section>
      <section class="panel" aria-labelledby="policy-title">
        <h2 id="policy-title">Traffic policies</h2>
        <h3>Affinity</h3>
        <p>{affinityText(data.affinity)}</p>
        <h3>Rules</h3>
        {data.rules === undefined || data.rules.length === 0 ? (
          <p>None: every request is split by the weights.</p>
        ) : (
          <ol>
            {data.rules.map((rule, index) => (
              <li key={index}>{ruleText(rule)}</li>
            ))}
          </ol>
        )}
        <h3>Mirror</h3>
        <p>{mirrorText(data.mirror)}</p>
        <h3>Timeout</h3>
        <p>{data.timeout === '0s' ? 'None.' : `${data.timeout} per request.`}</p>
        <p class="muted">
          Listener {data.listener}; hosts {data.hosts.join(', ')}.
        </p>
      </section>
    </>
  );
}
