// The revision route: which connected proxies have applied revision n, optionally waiting
// (`?wait=5s`, at most 60 s) until all have. The answer comes from a RevisionsView; this route
// only reads parameters and ends a wait when its request goes away or the server closes.

import type { FastifyPluginAsync } from 'fastify';
import { SluiceError } from '../../errors.js';
import { parseDuration } from '../../model/duration.js';

export const MAX_WAIT_MS = 60_000;

export interface RevisionsView {
  /**
   * Where the fleet stands on `revision` once every connected proxy has applied it, after
   * `timeoutMs` (0: at once) or when `signal` aborts, whichever comes first. Rejects with
   * SLUICE_REVISION_NOT_FOUND past the current revision.
   */
  wait(revision: number, timeoutMs: number, signal: AbortSignal): Promise<object>;
}

function revisionParam(value: string): number {
  const revision = /^\d{1,15}$/.test(value) ? Number(value) : 0;
  if (revision < 1) {
    throw new SluiceError('SLUICE_INVALID_PARAM', `The revision must be a positive integer, not ${JSON.stringify(value)}.`, '/revision');
  }
  return revision;
}

function waitParam(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string') throw new SluiceError('SLUICE_INVALID_PARAM', 'Give wait once.', '/wait');
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

export const revisionRoutes: FastifyPluginAsync<{ revisions: RevisionsView }> = async (app, { revisions }) => {
  /** One per request that is waiting, so that closing the server ends every wait at once. */
  const waiting = new Set<AbortController>();
  app.addHook('preClose', (done) => {
    for (const controller of waiting) controller.abort();
    done();
  });

  app.get<{ Params: { revision: string }; Querystring: Record<string, unknown> }>(
    '/v1/revisions/:revision',
    async (request, reply) => {
      const revision = revisionParam(request.params.revision);
      const timeoutMs = waitParam(request.query['wait']);
      const controller = new AbortController();
      waiting.add(controller);
      // The response closes when it is sent or when the client went away before that.
      reply.raw.once('close', () => controller.abort());
      try {
        return await revisions.wait(revision, timeoutMs, controller.signal);
      } finally {
        waiting.delete(controller);
      }
    },
  );
};
