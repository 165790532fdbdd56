// Builds the admin HTTP API as a fastify instance that is not listening (main.ts listens, tests
// use inject()). Owns body parsing, error shape, access (host and origin guards, token, rate
// limit), security headers, HTTP or HTTPS, the API description, request counting and route
// registration; state is changed only through the store, the fleet and a node's resources are
// only read, through the interfaces below.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { Store } from '../state/store.js';
import type { AdminAuth } from './access-rules.js';
import { describeApi } from './api-docs.js';
import { requireToken } from './auth.js';
import type { ServiceTrafficView } from '../api/desired-state.js';
import type { DryRunView } from '../api/dry-run.js';
import type { ServiceTrafficHistoryView } from '../api/service-traffic.js';
import type { ShadowView } from '../api/shadow.js';
import { replyWithSluiceErrors, sendError } from './error-reply.js';
import { requireKnownHost } from './host-guard.js';
import { parseAnyBodyAsJson } from './json-body.js';
import { refuseForeignChanges } from './origin-guard.js';
import { limitMutations } from './rate-limit.js';
import { countRequests } from './request-counter.js';
import { RequestLog } from './request-log.js';
import { auditRoutes } from './routes/audit.js';
import { consoleRoutes } from './routes/console.js';
import { eventRoutes, type EventStreamLimits, type EventsView } from './routes/events.js';
import { fleetRoutes, type FleetView } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { listenerRoutes } from './routes/listeners.js';
import { metricsRoutes, type AdminMetrics } from './routes/metrics.js';
import { nodeRoutes, type NodeResourcesView } from './routes/nodes.js';
import { revisionHistoryRoutes } from './routes/revision-history.js';
import { revisionRoutes, type RevisionsView } from './routes/revisions.js';
import { rolloutRoutes } from './routes/rollouts.js';
import { serviceTrafficRoutes } from './routes/service-traffic.js';
import { shadowRoutes } from './routes/shadow.js';
import { serviceRoutes } from './routes/services.js';
import { addSecurityHeaders } from './security-headers.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Log paths that may hold the admin token; pino replaces their values. */
const REDACTED_PATHS = ['headers.authorization', '*.headers.authorization'];

/** PEM texts: the admin API speaks HTTPS with them; with `clientCa` clients must present a certificate it signed. */
export interface AdminTls {
  cert: string;
  key: string;
  clientCa?: string;
}

export interface AdminDeps {
  store: Store;
  fleet: FleetView;
  logger: Logger;
  isReady(): boolean;
  /** Why sluice is not ready although it serves (`/readyz` answers 503 with it), if it is not. */
  readinessProblem?(): string | undefined;
  /** Serves `GET /v1/revisions/:revision`; without it that route does not exist. */
  revisions?: RevisionsView;
  /** Serves `/metrics` and counts every request; without it neither happens. */
  metrics?: AdminMetrics;
  /** Serves `GET /v1/nodes/:id/resources`; without it that route does not exist. */
  nodeResources?: NodeResourcesView;
  /** What proxies served of a service lately: deleting one they served needs `?force=true`. Without it only a rollout guards a delete. */
  serviceTraffic?: ServiceTrafficView;
  /** Serves `GET /v1/services/:name/traffic` (per version, in intervals, by load reports); without it that route does not exist. */
  trafficHistory?: ServiceTrafficHistoryView;
  /** Each service's shadow comparison results (`GET /v1/services/{name}/shadow`). */
  shadow?: ShadowView;
  /** What a change would change in proxies' resources, answered to `?dryRun=true`; without it a dry run lists no changes. */
  dryRun?: DryRunView;
  /** With it, calls need `Authorization: Bearer <token>` (mutations; reads too when `reads`). */
  auth?: AdminAuth;
  /** Mutations per second accepted from one client address; without it mutations are not limited. */
  mutationRateLimit?: number;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Serves `GET /v1/events`; without it that route does not exist. */
  events?: EventsView;
  /** Heartbeat interval and the bound on a subscriber's unsent bytes (defaults in routes/events.ts). */
  eventStreamLimits?: Partial<EventStreamLimits>;
  /** The clock rollout commands are stamped with (the rollout controller's); Date.now by default. */
  rolloutClock?: () => number;
  /** Host names the admin API answers under (the Host header, see host-guard.ts); without it any Host is answered. */
  hostNames?: readonly string[];
  /** The web console's built files (index.html and its bundle); without it `/` does not exist. */
  consoleRoot?: string;
  /** Serve HTTPS with this certificate (and require client certificates with its `clientCa`); plain HTTP without it. */
  tls?: AdminTls;
}

function serverFactory(tls: AdminTls | undefined): FastifyServerFactory {
  if (tls === undefined) return (handler) => createHttpServer(handler);
  const clientCerts = tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true };
  return (handler) => createHttpsServer({ cert: tls.cert, key: tls.key, ...clientCerts }, handler);
}

export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const requestLog = new RequestLog();
  // Typed as fastify's logger so the instance is a plain FastifyInstance for the route plugins.
  const loggerInstance: FastifyBaseLogger = deps.logger.child(
    {},
    { redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, serializers: { req: requestLog.serializeRequest } },
  );
  const app = Fastify({
    loggerInstance,
    serverFactory: serverFactory(deps.tls),
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Malformed URLs are rejected before routing; answer them in the same error shape.
    frameworkErrors: sendError,
    ajv: {
      // Validate exactly what was sent: no stripping of unknown fields, no type coercion, no
      // defaults written into the body (normalizeService fills them; the audit keeps the request).
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
  });
  requestLog.learnRoutes(app);
  // Headers first, then the host guard: every answer, a refusal too, carries them.
  addSecurityHeaders(app);
  if (deps.hostNames !== undefined) requireKnownHost(app, deps.hostNames);
  refuseForeignChanges(app);
  parseAnyBodyAsJson(app);
  replyWithSluiceErrors(app);
  if (deps.metrics) countRequests(app, deps.metrics);
  requireToken(app, deps.auth);
  if (deps.mutationRateLimit !== undefined) limitMutations(app, deps.mutationRateLimit);
  describeApi(app, deps.auth, { hostChecked: deps.hostNames !== undefined });
  void app.register(healthRoutes, { isReady: () => deps.isReady(), readinessProblem: () => deps.readinessProblem?.() });
  const dryRun = deps.dryRun ? { dryRun: deps.dryRun } : {};
  void app.register(serviceRoutes, { store: deps.store, ...dryRun, ...(deps.serviceTraffic ? { traffic: deps.serviceTraffic } : {}) });
  void app.register(rolloutRoutes, { store: deps.store, clock: deps.rolloutClock ?? Date.now, ...dryRun });
  void app.register(listenerRoutes, { store: deps.store, ...dryRun });
  void app.register(auditRoutes, { store: deps.store });
  void app.register(revisionHistoryRoutes, { store: deps.store, ...dryRun });
  void app.register(fleetRoutes, { fleet: deps.fleet });
  if (deps.revisions) void app.register(revisionRoutes, { revisions: deps.revisions, store: deps.store });
  if (deps.nodeResources) void app.register(nodeRoutes, { nodeResources: deps.nodeResources });
  if (deps.metrics) void app.register(metricsRoutes, { metrics: deps.metrics });
  if (deps.trafficHistory) void app.register(serviceTrafficRoutes, { store: deps.store, traffic: deps.trafficHistory });
  if (deps.shadow) void app.register(shadowRoutes, { store: deps.store, shadow: deps.shadow });
  if (deps.consoleRoot !== undefined) void app.register(consoleRoutes, { root: deps.consoleRoot });
  if (deps.events) void app.register(eventRoutes, { events: deps.events, ...(deps.eventStreamLimits ? { limits: deps.eventStreamLimits } : {}) });
  return app;
}
