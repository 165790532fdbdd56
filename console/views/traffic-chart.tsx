// Per version, what the proxies' load reports say it served over the last minutes: requests per
// interval as a small line and the error rate, read again every few seconds (load reports are
// not events) and on every event.

import { useEffect } from 'preact/hooks';
import type { ServiceTrafficAnswer } from '../../src/api/service-traffic.js';
import { useApi } from '../live-data.js';
import { Problem } from './problem.js';
import { Sparkline } from './sparkline.js';
import { versionClass } from './weight-bar.js';

/** Load reports arrive every couple of seconds: read them about as often. */
const REFRESH_MS = 5000;

export function TrafficChart({ service }: { service: string }) {
  const traffic = useApi<ServiceTrafficAnswer>(`/v1/services/${encodeURIComponent(service)}/traffic`);
  const { reload } = traffic;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  if (traffic.error !== undefined) return <Problem error={traffic.error} />;
  if (traffic.data === undefined) return <p class="loading">Reading the load reports…</p>;
  const versions = Object.keys(traffic.data.versions);
  const minutes = Math.round((traffic.data.versions[versions[0] ?? '']?.length ?? 0) * traffic.data.intervalSeconds / 60);
  return (
    <>
      <p class="muted">
        The last {minutes} minutes in {traffic.data.intervalSeconds}-second intervals, as the proxies report them.
      </p>
      <ul class="traffic">
        {versions.map((version) => {
          const intervals = traffic.data!.versions[version]!;
          const requests = intervals.reduce((sum, interval) => sum + interval.requests, 0);
          const errors = intervals.reduce((sum, interval) => sum + interval.errors, 0);
          const rate = requests === 0 ? 0 : errors / requests;
          return (
            <li key={version} data-version={version} class={versionClass(versions, version)}>
              <strong>{version}</strong>{' '}
              <span data-testid="traffic-requests">{requests}</span> requests,{' '}
              <span class={errors > 0 ? 'bad' : ''}>
                {errors} errors ({(rate * 100).toFixed(1)}%)
              </span>
              <Sparkline values={intervals.map((interval) => interval.requests)} label={`${version} requests per ${traffic.data!.intervalSeconds} s: ${intervals.map((interval) => interval.requests).join(', ')}`} width={300} height={40} />
            </li>
          );
        })}
      </ul>
    </>
  );
}
