// Composition root: builds every part from the configuration, wires them together, starts the
// servers in order (state loaded → first snapshot → xDS → admin) and stops them in reverse.
// No logic of its own.

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { buildAdminApp } from './admin/app.js';
import { adminHostNames } from './admin/host-guard.js';
import { isLoopback, stateLocation, type SluiceConfig } from './config/config.js';
import { recordCommits } from './events/commit-events.js';
import { EventJournal } from './events/journal.js';
import { ProxyEvents } from './events/proxy-events.js';
import { ShadowEvents } from './events/shadow-events.js';
import { LoadStats } from './fleet/load-stats.js';
import { FleetStatus } from './fleet/status.js';
import { DEFAULT_LISTENER_NAME, type DesiredState } from './model/types.js';
import { ConvergenceTracker } from './observability/convergence.js';
import { fanOutCallbacks } from './observability/fan-out-callbacks.js';
import { SluiceMetrics } from './observability/metrics.js';
import { registerTrafficMetrics } from './observability/traffic-metrics.js';
import { registerXdsGuardMetrics } from './observability/xds-guard-metrics.js';
import { RolloutController } from './rollout/controller.js';
import { httpMetricSources } from './rollout/http-metrics.js';
import { RolloutNotifier } from './rollout/notifier.js';
import { WebhookDelivery } from './rollout/webhook-delivery.js';
import { registerRolloutPhases } from './rollout/phase-gauge.js';
import { LeaderLease } from './state/leader-lease.js';
import { PostgresAdapter } from './state/postgres-adapter.js';
import { SqliteAdapter } from './state/sqlite-adapter.js';
import { Store } from './state/store.js';
import { EmptyStateWatch, withEmptyStateWarnings } from './sync/empty-state.js';
import { envoyAcceptanceCheck } from './sync/envoy-acceptance.js';
import { ProxyReporter, rejectionsOf } from './sync/proxy-report.js';
import { DryRunDiff } from './sync/dry-run.js';
import { NodeResources } from './sync/node-resources.js';
import { Reconciler } from './sync/reconciler.js';
import { RejectionHolds } from './sync/rejection-holds.js';
import { RevisionLedger } from './sync/revision-ledger.js';
import { RevisionStatus } from './sync/revision-status.js';
import { RecentTraffic } from './sync/recent-traffic.js';
import { SharedProxies } from './sync/shared-proxies.js';
import { RolloutInputs } from './sync/rollout-inputs.js';
import { StartupError, checkPortsFree, readAdminTls } from './startup.js';
import { extProcService } from './shadow/ext-proc-service.js';
import { ShadowCollector } from './shadow/shadow-collector.js';
import { SnapshotCache } from './xds/cache.js';
import { DEFAULT_LOAD_REPORT_INTERVAL_MS, XdsServer, type XdsServerOptions } from './xds/server/ads-server.js';
import { IdentityPolicyError } from './xds/server/identity-policy.js';
import { watchIdentityPolicy } from './xds/server/identity-policy-watch.js';
import { XdsTlsError, watchXdsCredentials } from './xds/server/xds-credentials.js';

/** The web console's built files: dist/console beside dist/src (scripts/build-console.mjs writes them). */
const CONSOLE_ROOT = fileURLToPath(new URL('../console/', import.meta.url));

export interface RunningSluice {
  adminUrl: string;
  adminPort: number;
  xdsPort: number;
  store: Store;
  fleet: FleetStatus;
  /** Requests and errors per cluster, from the Envoys' load reports. */
  loadStats: LoadStats;
  /** What happened, as `GET /v1/events` streams it. */
  events: EventJournal;
  stop(): Promise<void>;
}

function openSqlite(path: string, revisionRetention: number): SqliteAdapter {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  return SqliteAdapter.open(path, { revisionRetention });
}

function initialState(config: SluiceConfig): DesiredState {
  return {
    revision: 0,
    listeners: { [DEFAULT_LISTENER_NAME]: { name: DEFAULT_LISTENER_NAME, address: '0.0.0.0', port: config.listenerPort } },
    services: {},
  };
}

/** The shared store, or a StartupError naming it without its password (pg's reason alone says neither). */
async function openSharedStore(url: string, config: SluiceConfig, retention: { revisionRetention: number }): Promise<PostgresAdapter> {
  try {
    return await PostgresAdapter.open(url, retention);
  } catch (error) {
    throw new StartupError(`cannot open the state store ${stateLocation(config)} (--store): ${(error as Error).message}`);
  }
}

/** The xDS server's TLS and identity options from the settings, read and checked before anything opens. */
function xdsTrustOptions(config: SluiceConfig, logger: Logger): Pick<XdsServerOptions, 'tls' | 'identityPolicy'> {
  if (config.xdsTlsCert === undefined || config.xdsTlsKey === undefined) return {};
  const files = { certFile: config.xdsTlsCert, keyFile: config.xdsTlsKey, ...(config.xdsClientCa ? { clientCaFile: config.xdsClientCa } : {}) };
  const tls = startupRefusalOf(() => watchXdsCredentials(files, logger));
  if (config.xdsIdentityPolicy === undefined) return { tls };
  const policyFile = config.xdsIdentityPolicy;
  try {
    return { tls, identityPolicy: startupRefusalOf(() => watchIdentityPolicy(policyFile, logger)) };
  } catch (error) {
    tls.close();
    throw error;
  }
}

/** Runs `build`, turning a bad TLS file or identity policy into a StartupError (printed alone, exit 2). */
function startupRefusalOf<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof XdsTlsError || error instanceof IdentityPolicyError) throw new StartupError(error.message);
    throw error;
  }
}

export async function startSluice(config: SluiceConfig, logger: Logger = pino({ level: config.logLevel })): Promise<RunningSluice> {
  let ready = false;
  let storeReachable = true;
  const xdsLogger = logger.child({ module: 'xds' });
  if (config.xdsTlsCert === undefined && !isLoopback(config.xdsHost)) {
    xdsLogger.warn(
      { xdsHost: config.xdsHost },
      `xDS WITHOUT TLS on ${config.xdsHost}, beyond loopback: anyone on the network can read the fleet's configuration ` +
        'and impersonate proxies. Give --xds-tls-cert, --xds-tls-key and --xds-client-ca (see docs/production.md) or bind 127.0.0.1',
    );
  }
  await checkPortsFree(config);
  const adminTls = readAdminTls(config);
  const xdsTrust = xdsTrustOptions(config, xdsLogger);
  const retention = { revisionRetention: config.revisionRetention };
  const adapter = config.store ? await openSharedStore(config.store, config, retention) : openSqlite(config.statePath, config.revisionRetention);
  const store = await Store.open(adapter, {
    initialState: initialState(config),
    onSubscriberError: (error) => logger.error({ err: error }, 'a state subscriber failed'),
    checkState: envoyAcceptanceCheck(),
  });
  await store.followSharedState((reachable, error) => {
    if (storeReachable && !reachable) logger.warn({ err: error?.message }, 'lost the shared state store; serving the last state');
    if (!storeReachable && reachable) logger.info({ revision: store.current().revision }, 'the shared state store is back; caught up');
    storeReachable = reachable;
  });
  const cache = new SnapshotCache();
  const fleet = new FleetStatus();
  const loadStats = new LoadStats();
  const ledger = new RevisionLedger();
  const currentRevision = (): number => store.current().revision;
  // A change a proxy rejects is held back for that proxy alone; it keeps getting every other change.
  const holds: RejectionHolds = new RejectionHolds({
    fleet,
    ledger,
    stateAt: (revision): DesiredState | undefined => reconciler.stateAt(revision),
    current: () => store.current(),
    groupOf: (node, transport) => reconciler.groupOf(node, transport),
    regroup: () => xds.regroup(),
    logger: logger.child({ module: 'sync' }),
  });
  const stopHoldingOnChange = store.subscribe((state) => holds.stateChanged(state));
  const replicaId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const shared =
    adapter instanceof PostgresAdapter
      ? new SharedProxies({
          share: adapter,
          replica: replicaId,
          fleet,
          ledger,
          holds,
          logger: logger.child({ module: 'replicas' }),
          onRemoteChange: () => revisions.remoteChanged(),
        })
      : undefined;
  const revisions = new RevisionStatus(fleet, ledger, currentRevision, shared, holds);
  const metrics = new SluiceMetrics({ fleet, currentRevision });
  const convergence = new ConvergenceTracker(revisions, metrics.convergence);
  convergence.start();
  const stopTimingCommits = store.subscribe((state) => convergence.committed(state.revision));
  const reconciler: Reconciler = new Reconciler({
    state: store,
    cache,
    ledger,
    logger: logger.child({ module: 'sync' }),
    variants: holds,
    regroup: () => xds.regroup(),
    onBuilt: (revision) => {
      metrics.snapshotBuilt(revision);
      revisions.ledgerChanged();
      shared?.ledgerChanged();
    },
  });
  reconciler.start();
  await shared?.start();
  const emptyState = config.allowEmpty
    ? undefined
    : new EmptyStateWatch({ isEmpty: (snapshot) => reconciler.builtFromEmptyState(snapshot), logger: logger.child({ module: 'xds' }) });

  const rolloutInputs = new RolloutInputs(revisions, loadStats, DEFAULT_LOAD_REPORT_INTERVAL_MS);
  const shadow = new ShadowCollector({
    serviceOf: (name) => store.current().services[name],
    onCompared: (service, version, outcome) => metrics.shadowCompared(service, version, outcome),
  });
  const lease = new LeaderLease(
    adapter instanceof PostgresAdapter ? adapter : {},
    replicaId,
    config.leaderLeaseMs,
    Date.now,
    (leading) => {
      logger.info({ leading }, leading ? 'leading: this replica runs rollouts' : 'no longer leading rollouts');
      if (leading) rollouts.wake();
    },
  );
  const rollouts = new RolloutController({
    store,
    isLeader: () => lease.isLeader(),
    proxies: rolloutInputs,
    sources: { ...httpMetricSources, fleet: rolloutInputs.fleetTotals, shadow: (service, since) => shadow.shadowTotals(service, since) },
    clock: Date.now,
    onError: (error, service) => logger.error({ err: error, service }, 'a rollout step failed; retrying on the next tick'),
  });
  const webhooks = new WebhookDelivery();
  const notifier = new RolloutNotifier({
    store,
    deliver: (url, notification) => webhooks.deliver(url, notification),
    defaultUrls: config.rolloutWebhooks,
    clock: Date.now,
    isLeader: () => lease.isLeader(),
    onError: (error, service) => logger.error({ err: error, service }, 'could not record a failed rollout notification'),
  });
  // Before the admin API opens, so that no phase change a person makes goes unseen.
  notifier.start();
  registerRolloutPhases(metrics.registry, () => store.current());
  registerTrafficMetrics(metrics.registry, { state: () => store.current(), loads: loadStats });

  // The event stream: commits (with their rollout decisions) and proxies (ACKs only while watched).
  const events = new EventJournal();
  const stopRecordingCommits = recordCommits(store, events);
  const proxyEvents = new ProxyEvents({
    journal: events,
    rejections: () => new Map(fleet.list().map((proxy) => [proxy.node.id, rejectionsOf(proxy, ledger, holds)])),
  });

  const callbacks = fanOutCallbacks(fleet, metrics.xds, proxyEvents);
  const shadowEvents = new ShadowEvents({ journal: events, view: shadow, services: () => Object.values(store.current().services) });
  shadowEvents.start();
  const xds = new XdsServer({
    cache,
    services: [extProcService(shadow)],
    callbacks,
    groupOf: (node, transport) => holds.groupFor(node.id, reconciler.groupOf(node, transport)),
    loadReports: loadStats,
    logger: xdsLogger,
    ...(emptyState ? { emptyState } : {}),
    ...xdsTrust,
    onDenied: (denial) => metrics.streamDenied(denial),
    limits: {
      maxStreams: config.xdsMaxStreams,
      maxStreamsPerPeer: config.xdsMaxStreamsPerPeer,
      maxNodeFieldBytes: config.xdsMaxNodeBytes,
      maxResourceNames: config.xdsMaxResourceNames,
    },
    maxRequestBytes: config.xdsMaxRequestKib * 1024,
  });
  registerXdsGuardMetrics(metrics.registry, {
    refusals: () => xds.refusals(),
    droppedReports: () => loadStats.droppedReports(),
    keptSamples: () => loadStats.kept().samples,
  });
  const xdsPort = await xds.listen(config.xdsHost, config.xdsPort);
  holds.start();

  const proxies = new ProxyReporter(fleet, ledger, store, holds);
  const recentTraffic = new RecentTraffic(loadStats);
  const admin = buildAdminApp({
    store,
    fleet: withEmptyStateWarnings(() => proxies.list(), emptyState),
    logger: logger.child({ module: 'admin' }),
    isReady: () => ready && storeReachable,
    readinessProblem: () => emptyState?.readinessProblem(),
    revisions,
    metrics,
    nodeResources: new NodeResources({ state: store, fleet }),
    dryRun: new DryRunDiff(() => fleet.list()),
    serviceTraffic: recentTraffic,
    trafficHistory: recentTraffic,
    shadow,
    events,
    consoleRoot: CONSOLE_ROOT,
    ...(config.adminToken === undefined ? {} : { auth: { token: config.adminToken, reads: config.adminAuthReads } }),
    mutationRateLimit: config.adminRateLimit,
    hostNames: adminHostNames(config.adminHost, config.adminHostNames),
    ...(adminTls === undefined ? {} : { tls: adminTls }),
  });
  await admin.listen({ host: config.adminHost, port: config.adminPort });
  const address = admin.server.address();
  const adminPort = typeof address === 'object' && address ? address.port : config.adminPort;
  await lease.start();
  rollouts.start();
  ready = true;
  const adminUrl = `${adminTls === undefined ? 'http' : 'https'}://${config.adminHost.includes(':') ? `[${config.adminHost}]` : config.adminHost}:${adminPort}`;
  logger.info({ xdsPort, adminPort, adminUrl, revision: store.current().revision, state: stateLocation(config) }, 'sluice is serving');

  return {
    adminUrl,
    adminPort,
    xdsPort,
    store,
    fleet,
    loadStats,
    events,
    async stop() {
      ready = false;
      await rollouts.stop();
      const notifierStopped = notifier.stop();
      await webhooks.close();
      await notifierStopped;
      await lease.stop();
      await shared?.stop();
      await admin.close();
      await xds.close();
      holds.stop();
      stopHoldingOnChange();
      reconciler.stop();
      stopTimingCommits();
      stopRecordingCommits();
      shadowEvents.stop();
      events.close();
      convergence.stop();
      await store.close();
    },
  };
}
