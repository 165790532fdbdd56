// Request body parsing for the admin API: every body is read as JSON whatever its content type
// (`curl -d @file.json` sends application/x-www-form-urlencoded). An empty body is no body.
// Parsing only (refusing text no proxy can take, model/text.ts, and a body where an action takes
// none); what the JSON must look like is the route schemas' business.

import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../errors.js';
import { checkText } from '../model/text.js';

export function parseAnyBodyAsJson(app: FastifyInstance): void {
  // fastify refuses a malformed Content-Type (even an empty one) before any parser runs; since
  // every body is read as JSON anyway, label them all as JSON first.
  app.addHook('onRequest', async (request) => {
    if (request.headers['content-type'] !== undefined) request.headers['content-type'] = 'application/json';
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const detail = error instanceof Error ? `: ${error.message}` : '';
      done(new SluiceError('SLUICE_MALFORMED_JSON', `The request body is not valid JSON${detail}.`), undefined);
      return;
    }
    try {
      checkText(parsed);
      done(null, parsed);
    } catch (error) {
      done(error as SluiceError, undefined);
    }
  });
}

/** For actions that take no body: none, or an empty JSON object (what some clients always send). */
export function refuseBody(body: unknown, action: string): void {
  const empty = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
  if (body !== undefined && !empty) {
    throw new SluiceError('SLUICE_INVALID_BODY', `${action} takes no body, or an empty JSON object.`, '');
  }
}
