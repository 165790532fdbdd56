// Liveness and readiness: /healthz answers whenever the process serves HTTP; /readyz only once
// the caller says sluice is ready (state loaded). No state is read or written here.

import type { FastifyPluginAsync } from 'fastify';
import { SluiceError } from '../../errors.js';

export const healthRoutes: FastifyPluginAsync<{ isReady: () => boolean }> = async (app, { isReady }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (!isReady()) throw new SluiceError('SLUICE_NOT_READY');
    return { status: 'ready' };
  });
};
