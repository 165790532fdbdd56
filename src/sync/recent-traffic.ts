// What the proxies served of one service within the recent window, for the admin API's delete
// guard: the requests Envoys reported (LoadStats) on each version's cluster, by cluster name, and
// how many proxies reported them; and the same window in equal intervals per version, for the
// traffic route (the console's chart). Reads only; the admin API decides what to refuse.

import type { RecentServiceTraffic, ServiceTrafficView } from '../api/desired-state.js';
import type { ServiceTrafficHistoryView, TrafficInterval } from '../api/service-traffic.js';
import type { LoadStats } from '../fleet/load-stats.js';
import type { Service } from '../model/types.js';
import { clusterName } from '../translate/names.js';

/**
 * How far back traffic counts as recent: 150 load-report intervals (2 s each), long enough to see a
 * service its clients call only every minute or two, short enough that one drained a few minutes
 * ago deletes without confirmation. Well within what LoadStats keeps (an hour).
 */
export const RECENT_TRAFFIC_WINDOW_MS = 5 * 60 * 1000;

/** The traffic history's interval: 30 of them make the recent window. */
export const TRAFFIC_INTERVAL_MS = 10_000;

export class RecentTraffic implements ServiceTrafficView, ServiceTrafficHistoryView {
  constructor(
    private readonly loads: Pick<LoadStats, 'totals' | 'reportingNodes'>,
    private readonly now: () => number = Date.now,
    private readonly windowMs = RECENT_TRAFFIC_WINDOW_MS,
  ) {}

  recentTraffic(service: Service): RecentServiceTraffic {
    const since = this.now() - this.windowMs;
    const byVersion: Record<string, number> = {};
    const proxies = new Set<string>();
    let requests = 0;
    for (const version of service.versions) {
      const cluster = clusterName(service.name, version.name);
      const served = this.loads.totals(cluster, since).requests;
      if (served === 0) continue;
      byVersion[version.name] = served;
      requests += served;
      for (const node of this.loads.reportingNodes(cluster, since)) proxies.add(node);
    }
    return { requests, byVersion, proxies: proxies.size, windowSeconds: Math.round(this.windowMs / 1000) };
  }

  trafficHistory(service: Service): { from: number; intervalSeconds: number; versions: Record<string, TrafficInterval[]> } {
    const count = Math.max(1, Math.round(this.windowMs / TRAFFIC_INTERVAL_MS));
    // Intervals end on a multiple of the interval, the last one at the next multiple after now.
    const end = Math.floor(this.now() / TRAFFIC_INTERVAL_MS) * TRAFFIC_INTERVAL_MS + TRAFFIC_INTERVAL_MS;
    const from = end - count * TRAFFIC_INTERVAL_MS;
    const versions: Record<string, TrafficInterval[]> = {};
    for (const version of service.versions) {
      const cluster = clusterName(service.name, version.name);
      // Totals since each boundary; an interval is the difference of its two boundaries.
      const since = Array.from({ length: count + 1 }, (_, index) => this.loads.totals(cluster, from + index * TRAFFIC_INTERVAL_MS));
      versions[version.name] = since.slice(0, count).map((total, index) => ({
        requests: total.requests - since[index + 1]!.requests,
        errors: total.errors - since[index + 1]!.errors,
      }));
    }
    return { from, intervalSeconds: TRAFFIC_INTERVAL_MS / 1000, versions };
  }
}
