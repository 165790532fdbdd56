// The rate limit on changes: at most N mutations per second from one client address, answered
// beyond that with 429 SLUICE_RATE_LIMITED (and Retry-After). Reads are never limited. Counts
// before the token check, so that guessing the token through mutations is limited too.

import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../errors.js';
import { isMutation } from './access-rules.js';

export function limitMutations(app: FastifyInstance, perSecond: number): void {
  void app.register(rateLimit, {
    max: perSecond,
    timeWindow: 1000,
    allowList: (request) => !isMutation(request.method),
    errorResponseBuilder: (_request, context) =>
      new SluiceError('SLUICE_RATE_LIMITED', `Too many changes from this client: at most ${context.max} per second. Retry in ${context.after}.`),
  });
}
