// The overview: every service with its weights as a bar (stable and candidate marked), its
// rollout's phase and step, and how many proxies hold its current revision; all of it read again
// on each event, so it moves while a rollout or a person changes traffic.

import type { ServicesAnswer } from '../../src/api/desired-state.js';
import type { ProxiesAnswer } from '../../src/api/fleet.js';
import type { RolloutListAnswer, RolloutSummary } from '../../src/api/rollouts.js';
type Service = ServicesAnswer['services'][number];
import { useApi } from '../live-data.js';
import { Problem } from './problem.js';
import { WeightBar } from './weight-bar.js';

const FINISHED = new Set(['succeeded', 'rolled-back', 'aborted']);

export function isActive(rollout: RolloutSummary | undefined): rollout is RolloutSummary {
  return rollout !== undefined && !FINISHED.has(rollout.phase);
}

/** The version a service is moving to: its active rollout's candidate, else a non-stable version with traffic. */
export function candidateOf(service: Service, rollout: RolloutSummary | undefined): string | undefined {
  if (isActive(rollout)) return rollout.candidate;
  return service.versions.map((version) => version.name).find((name) => name !== service.stable && (service.weights[name] ?? 0) > 0);
}

export function stepText(rollout: RolloutSummary): string {
  const step = Math.min(rollout.step + 1, rollout.steps.length);
  return `step ${step} of ${rollout.steps.length}`;
}

export function inSyncText(proxies: ProxiesAnswer, service?: string): string {
  const holding = proxies.proxies.filter((proxy) => (service === undefined ? proxy.inSync : proxy.services[service]?.inSync ?? proxy.inSync));
  return `${holding.length} of ${proxies.proxies.length} ${proxies.proxies.length === 1 ? 'proxy' : 'proxies'} in sync`;
}

export function Overview() {
  const services = useApi<ServicesAnswer>('/v1/services');
  const rollouts = useApi<RolloutListAnswer>('/v1/rollouts');
  const proxies = useApi<ProxiesAnswer>('/v1/proxies');
  if (services.error !== undefined) return <Problem error={services.error} />;
  if (services.data === undefined) return <p class="loading">Reading the services…</p>;
  const rolloutOf = (name: string) => rollouts.data?.rollouts.find((rollout) => rollout.service === name);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Services</h1>
      <p class="summary">
        Revision <span data-testid="revision">{services.data.revision}</span>
        {proxies.data === undefined ? null : (
          <>
            {' · '}
            <span data-testid="fleet-sync">{inSyncText(proxies.data)}</span>
          </>
        )}
      </p>
      {services.data.services.length === 0 ? <p>No service yet: add one with the CLI or the API (PUT /v1/services/&lt;name&gt;).</p> : null}
      <ul class="cards">
        {services.data.services.map((service) => {
          const rollout = rolloutOf(service.name);
          return (
            <li key={service.name} class="card" data-service={service.name}>
              <h2>
                <a href={`#/services/${encodeURIComponent(service.name)}`}>{service.name}</a> <span class="muted">{service.match.prefix}</span>
              </h2>
              <WeightBar versions={service.versions.map((version) => version.name)} weights={service.weights} stable={service.stable} candidate={candidateOf(service, rollout)} />
              <p class="facts">
                {isActive(rollout) ? (
                  <span class="rollout-state" data-testid="rollout-state">
                    rollout to {rollout.candidate}: <span class={`phase ${rollout.phase}`}>{rollout.phase}</span>, {stepText(rollout)}
                  </span>
                ) : (
                  <span class="muted">no active rollout</span>
                )}
                {proxies.data === undefined ? null : <span data-testid="service-sync"> · {inSyncText(proxies.data, service.name)}</span>}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
