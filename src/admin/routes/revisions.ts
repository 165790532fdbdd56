// The revision status route: which connected proxies have applied revision n (or hold one service
// as of n: `?service=`), optionally waiting (`?wait=5s`, at most 60 s) until all have. The answer comes from a RevisionsView; this route
// only reads parameters and ends a wait when its request goes away or the server closes.

import type { FastifyPluginAsync } from 'fastify';
import { SluiceError } from '../../errors.js';
import { parseDuration } from '../../model/duration.js';
import { responses, revisionReportSchema } from '../api-schemas.js';
import { revisionParam, revisionParamsSchema } from '../whole-numbers.js';
import type { Store } from '../../state/store.js';

export const MAX_WAIT_MS = 60_000;

export interface RevisionsView {
  /**
   * Where the fleet stands on `revision` once every connected proxy has applied it, after
   * `timeoutMs` (0: at once) or when `signal` aborts, whichever comes first. Rejects with
   * SLUICE_REVISION_NOT_FOUND past the current revision. With `service`, a proxy has applied it
   * when it holds that service as of the revision or later.
   */
  wait(revision: number, timeoutMs: number, signal: AbortSignal, service?: string): Promise<object>;
}

const querystring = {
  type: 'object',
  properties: {
    wait: { type: 'string', maxLength: 32, description: 'Wait until every connected proxy has applied the revision, at most this long (e.g. "5s"; at most 60s).' },
    service: {
      type: 'string',
      maxLength: 64,
      description: 'Ask about one service: a proxy has applied the revision when it holds that service as of it or later, whatever it rejects of others.',
    },
  },
} as const;

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

export const revisionRoutes: FastifyPluginAsync<{ revisions: RevisionsView; store: Pick<Store, 'current'> }> = async (app, { revisions, store }) => {
  /** One per request that is waiting, so that closing the server ends every wait at once. */
  const waiting = new Set<AbortController>();
  app.addHook('preClose', (done) => {
    for (const controller of waiting) controller.abort();
    done();
  });

  app.get<{ Params: { revision: string }; Querystring: { wait?: string; service?: string } }>(
    '/v1/revisions/:revision',
    {
      schema: {
        tags: ['revisions'],
        summary: 'Which connected proxies have applied a revision; ?wait blocks until all have',
        params: revisionParamsSchema,
        querystring,
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
