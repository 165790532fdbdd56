// Liveness and readiness: /healthz answers whenever the process serves HTTP; /readyz only once
// the caller says sluice is ready (state loaded). No state is read or written here.

import type { FastifyPluginAsync } from 'fastify';
import { SluiceError } from '../../errors.js';
import { responses, statusSchema } from '../api-schemas.js';

const tags = ['health'];

export const healthRoutes: FastifyPluginAsync<{ isReady: () => boolean }> = async (app, { isReady }) => {
  app.get('/healthz', { schema: { tags, summary: 'Liveness', response: responses({ 200: statusSchema }) } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags, summary: 'Readiness: the state is loaded and sluice serves', response: responses({ 200: statusSchema }) } },
    async () => {
      if (!isReady()) throw new SluiceError('SLUICE_NOT_READY');
      return { status: 'ready' };
    },
  );
};
