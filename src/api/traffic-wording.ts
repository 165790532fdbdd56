// How the recent traffic of a service is put in words, the same in the server's refusal to delete
// it and in the CLI's report of a forced delete. Pure wording over the contract's shape.

import type { RecentServiceTraffic } from './desired-state.js';

const count = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function windowText(seconds: number): string {
  return seconds % 60 === 0 ? count(seconds / 60, 'minute', 'minutes') : count(seconds, 'second', 'seconds');
}

/** `served 1,234 requests in the last 5 minutes (blue 1,100, green 134) on 2 proxies`. */
export function servedText(traffic: RecentServiceTraffic): string {
  const versions = Object.entries(traffic.byVersion)
    .map(([version, requests]) => `${version} ${requests.toLocaleString('en-US')}`)
    .join(', ');
  return (
    `served ${count(traffic.requests, 'request', 'requests')} in the last ${windowText(traffic.windowSeconds)} ` +
    `(${versions}) on ${count(traffic.proxies, 'proxy', 'proxies')}`
  );
}
