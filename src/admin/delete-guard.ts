// Whether deleting a service needs `?force=true` because proxies served it lately, and the refusal
// (409 SLUICE_DELETE_UNCONFIRMED) that says what would break, with the rollout it would abort too.
// Reads the traffic only through the `ServiceTrafficView` main.ts passes in; never the fleet itself.

import { SluiceError } from '../errors.js';
import type { Rollout, Service } from '../model/types.js';

/** What the proxies served of one service within the recent window, by their load reports. */
export interface RecentServiceTraffic {
  /** Completed requests (errors included) over every version. */
  requests: number;
  /** Requests per version that served any, in the service's version order. */
  byVersion: Record<string, number>;
  /** How many proxies reported them. */
  proxies: number;
  /** The window, in seconds, ending now. */
  windowSeconds: number;
}

export interface ServiceTrafficView {
  recentTraffic(service: Service): RecentServiceTraffic;
}

const count = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function windowText(seconds: number): string {
  return seconds % 60 === 0 ? count(seconds / 60, 'minute', 'minutes') : count(seconds, 'second', 'seconds');
}

/** `served 1,234 requests in the last 5 minutes (blue 1,100, green 134) on 2 proxies` (the CLI says it too). */
export function servedText(traffic: RecentServiceTraffic): string {
  const versions = Object.entries(traffic.byVersion)
    .map(([version, requests]) => `${version} ${requests.toLocaleString('en-US')}`)
    .join(', ');
  return (
    `served ${count(traffic.requests, 'request', 'requests')} in the last ${windowText(traffic.windowSeconds)} ` +
    `(${versions}) on ${count(traffic.proxies, 'proxy', 'proxies')}`
  );
}

/**
 * The refusal to delete service `name` without `?force=true` when proxies served it within the
 * window (also naming `rollout`, the active rollout it would abort, if any); undefined when none did.
 */
export function unconfirmedDelete(name: string, traffic: RecentServiceTraffic, rollout: Rollout | undefined): SluiceError | undefined {
  if (traffic.requests === 0) return undefined;
  const alsoRollout =
    rollout === undefined ? '' : ` It also has an active rollout of "${rollout.candidate}" (${rollout.phase}), which deleting it would abort.`;
  return new SluiceError(
    'SLUICE_DELETE_UNCONFIRMED',
    `Service "${name}" ${servedText(traffic)}; deleting it makes those requests fail (404).${alsoRollout} Repeat with DELETE /v1/services/${name}?force=true to delete it anyway.`,
  );
}
