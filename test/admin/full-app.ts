// An admin app with every optional part the composition root gives it — revision status,
// metrics, a node's resources, the event stream, a service's traffic history — over an in-memory store, a real FleetStatus (driven by hand with
// fleet-driver.ts) and a RevisionLedger, plus any extra admin dependencies a test adds.

import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildAdminApp, type AdminDeps } from '../../src/admin/app.js';
import { EventJournal } from '../../src/events/journal.js';
import { LoadStats } from '../../src/fleet/load-stats.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { SluiceMetrics } from '../../src/observability/metrics.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { NodeResources } from '../../src/sync/node-resources.js';
import { RecentTraffic } from '../../src/sync/recent-traffic.js';
import { ProxyReporter } from '../../src/sync/proxy-report.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { RevisionStatus } from '../../src/sync/revision-status.js';
import { INITIAL_STATE } from './harness.js';

export interface FullApp {
  app: FastifyInstance;
  store: Store;
  fleet: FleetStatus;
  ledger: RevisionLedger;
  close(): Promise<void>;
}

/** Builds the app without readying it, so that a test can add hooks first. */
export async function buildFullApp(
  extra: Pick<AdminDeps, 'auth' | 'mutationRateLimit' | 'dryRun' | 'hostNames'> = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<FullApp> {
  const store = await Store.open(SqliteAdapter.open(':memory:'), { initialState: INITIAL_STATE });
  const fleet = new FleetStatus();
  const ledger = new RevisionLedger();
  const currentRevision = (): number => store.current().revision;
  const app = buildAdminApp({
    store,
    fleet: new ProxyReporter(fleet, ledger, store),
    logger,
    isReady: () => true,
    revisions: new RevisionStatus(fleet, ledger, currentRevision),
    metrics: new SluiceMetrics({ fleet, currentRevision }),
    nodeResources: new NodeResources({ state: store, fleet }),
    events: new EventJournal(),
    trafficHistory: new RecentTraffic(new LoadStats()),
    ...extra,
  });
  return {
    app,
    store,
    fleet,
    ledger,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}
