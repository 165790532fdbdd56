// Liveness and readiness: /healthz answers whenever the process serves HTTP; /readyz only once
// the caller says sluice is ready (state loaded) and reports no readiness problem (e.g. an empty
// state while proxies with configuration are connected: the 503 says so). No state is read or
// written here.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { responses, statusSchema } from '../../api/common.js';
import { SluiceError } from '../../errors.js';

const tags = ['health'];

export interface HealthOptions {
  isReady: () => boolean;
  /** Why sluice is not ready although it serves, if it is not (answered with the 503). */
  readinessProblem?: () => string | undefined;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { isReady, readinessProblem }) => {
  app.get('/healthz', { schema: { tags, summary: 'Liveness', response: responses({ 200: statusSchema }) } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags, summary: 'Readiness: the state is loaded and sluice serves', response: responses({ 200: statusSchema }) } },
    async () => {
      if (!isReady()) throw new SluiceError('SLUICE_NOT_READY');
      const problem = readinessProblem?.();
      if (problem !== undefined) throw new SluiceError('SLUICE_NOT_READY', problem);
      return { status: 'ready' };
    },
  );
};
