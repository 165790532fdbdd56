// The revision status route: which connected proxies have applied revision n (or hold one service
// as of n: `?service=`), optionally waiting (`?wait=5s`, at most 60 s) until all have. The answer comes from a RevisionsView; this route
// only reads parameters and ends a wait when its request goes away or the server closes.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses, revisionParamsSchema } from '../../api/common.js';
import { revisionQuerySchema, revisionReportSchema, type RevisionReport } from '../../api/fleet.js';
import { SluiceError } from '../../errors.js';
import { parseDuration } from '../../model/duration.js';
import type { Store } from '../../state/store.js';
import { revisionParam } from '../whole-numbers.js';

export const MAX_WAIT_MS = 60_000;

export interface RevisionsView {
  /**
   * Where the fleet stands on `revision` once every connected proxy has applied it, after
   * `timeoutMs` (0: at once) or when `signal` aborts, whichever comes first. Rejects with
   * SLUICE_REVISION_NOT_FOUND past the current revision. With `service`, a proxy has applied it
   * when it holds that service as of the revision or later.
   */
  wait(revision: number, timeoutMs: number, signal: AbortSignal, service?: string): Promise<RevisionReport>;
}

function waitParam(value: string | undefined): number {
  if (value === undefined) return 0;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    if (error instanceof SluiceError) throw new SluiceError('SLUICE_INVALID_PARAM', error.message, '/wait');
    throw error;
  }
  if (ms > MAX_WAIT_MS) throw new SluiceError('SLUICE_INVALID_PARAM', `wait must be at most 60s, not "${value}".`, '/wait');
  return ms;
}

/** A `?service=` naming no service of the current state is a 404 (a typo would otherwise look applied). */
function serviceParam(value: string | undefined, store: Pick<Store, 'current'>): string | undefined {
  if (value === undefined || Object.hasOwn(store.current().services, value)) return value;
  throw new SluiceError('SLUICE_SERVICE_NOT_FOUND', `No service is named ${JSON.stringify(value)}.`, '/service');
}

export const revisionRoutes: FastifyPluginAsyncTypebox<{ revisions: RevisionsView; store: Pick<Store, 'current'> }> = async (app, { revisions, store }) => {
  /** One per request that is waiting, so that closing the server ends every wait at once. */
  const waiting = new Set<AbortController>();
  app.addHook('preClose', (done) => {
    for (const controller of waiting) controller.abort();
    done();
  });

  app.get(
    '/v1/revisions/:revision',
    {
      schema: {
        tags: ['revisions'],
        summary: 'Which connected proxies have applied a revision; ?wait blocks until all have',
        params: revisionParamsSchema,
        querystring: revisionQuerySchema,
        response: responses({ 200: revisionReportSchema }),
      },
    },
    async (request, reply) => {
      const revision = revisionParam(request.params.revision);
      const timeoutMs = waitParam(request.query.wait);
      const service = serviceParam(request.query.service, store);
      const controller = new AbortController();
      waiting.add(controller);
      // The response closes when it is sent or when the client went away before that.
      reply.raw.once('close', () => controller.abort());
      try {
        return await revisions.wait(revision, timeoutMs, controller.signal, service);
      } finally {
        waiting.delete(controller);
      }
    },
  );
};
