// What the admin API's request log says of a request: method, path, host, client address, and
// the query with only the parameters some route defines; any other (a token sent as `?token=…`)
// is written as [redacted], name and value. Headers are never logged here. Reads the routes'
// query schemas as they are added; changes nothing about how a request is served.

import type { FastifyInstance, FastifyRequest } from 'fastify';

export const REDACTED = '[redacted]';

/** A request URL with the query parameters not in `known` redacted. */
export function redactedUrl(url: string, known: ReadonlySet<string>): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const parameters = [...new URLSearchParams(url.slice(start + 1))].map(([name, value]) =>
    known.has(name) ? `${encodeURIComponent(name)}=${encodeURIComponent(value)}` : REDACTED,
  );
  return parameters.length === 0 ? url.slice(0, start) : `${url.slice(0, start)}?${parameters.join('&')}`;
}

export class RequestLog {
  private readonly knownParameters = new Set<string>();

  /** Learns every query parameter name the routes declare; call before any route is registered. */
  learnRoutes(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const querystring = route.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
      for (const name of Object.keys(querystring?.properties ?? {})) this.knownParameters.add(name);
    });
  }

  /** pino's `req` serializer for the admin logger (fastify logs `{req}` per incoming request). */
  readonly serializeRequest = (request: FastifyRequest): Record<string, unknown> => ({
    method: request.method,
    url: redactedUrl(request.url, this.knownParameters),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  });
}
