// What the proxies served of one service within the recent window, for the admin API's delete
// guard: the requests Envoys reported (LoadStats) on each version's cluster, by cluster name, and
// how many proxies reported them. Reads only; the admin API decides what to refuse.

import type { RecentServiceTraffic, ServiceTrafficView } from '../api/desired-state.js';
import type { LoadStats } from '../fleet/load-stats.js';
import type { Service } from '../model/types.js';
import { clusterName } from '../translate/names.js';

/**
 * How far back traffic counts as recent: 150 load-report intervals (2 s each), long enough to see a
 * service its clients call only every minute or two, short enough that one drained a few minutes
 * ago deletes without confirmation. Well within what LoadStats keeps (an hour).
 */
export const RECENT_TRAFFIC_WINDOW_MS = 5 * 60 * 1000;

export class RecentTraffic implements ServiceTrafficView {
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
}
