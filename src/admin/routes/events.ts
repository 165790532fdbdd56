// The event stream route: `GET /v1/events` as Server-Sent Events, resumable with `Last-Event-ID`
// (or `?since=`), filtered by `?types=` and `?service=`. Owns the HTTP side only: headers,
// heartbeats, dropping a subscriber whose connection cannot keep up, ending every stream when its
// client leaves or the server closes. The events, their history and their frames come from an EventsView.

import type { FastifyPluginAsync } from 'fastify';
import { SluiceError } from '../../errors.js';
import { responses, WHOLE_NUMBER_PATTERN } from '../../api/common.js';
import { wholeNumber } from '../whole-numbers.js';

/** A comment line every so often keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/** Bytes written to a subscriber and not yet taken by its connection, past which it is disconnected. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventStreamLimits {
  heartbeatMs: number;
  maxBufferedBytes: number;
}

export interface EventSubscriptionFilter {
  types?: ReadonlySet<string>;
  service?: string;
}

export interface EventsView {
  /** Every event name, for checking `?types=`. */
  readonly types: readonly string[];
  /**
   * From now on, `deliver` gets each burst of events the filter lets through, as ready-to-write
   * frames; `initial` is what comes first: with `since`, a reset when events after it are gone,
   * then the held events after it.
   */
  subscribe(options: { since?: number; filter: EventSubscriptionFilter }, deliver: (chunk: Buffer) => void): { initial: Buffer; close(): void };
}

const KEEPALIVE = Buffer.from(': keepalive\n\n');

interface EventsQuery {
  since?: string;
  types?: string;
  service?: string;
}

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: {
      type: 'string',
      pattern: WHOLE_NUMBER_PATTERN,
      description: 'Resume after this event id, for clients that cannot send `Last-Event-ID` (the header wins when both are given).',
    },
    types: { type: 'string', maxLength: 200, description: 'Only these events, comma-separated (e.g. `revision,rollout`).' },
    service: { type: 'string', maxLength: 64, description: 'Only events about this service (revisions, rollout decisions, NACKs naming it).' },
  },
} as const;

const headers = {
  type: 'object',
  properties: { 'last-event-id': { type: 'string', description: 'Resume after this event id (sent by EventSource on reconnecting).' } },
} as const;

function sinceParam(header: string | string[] | undefined, query: string | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && value !== '') {
    if (!new RegExp(WHOLE_NUMBER_PATTERN).test(value)) {
      throw new SluiceError('SLUICE_INVALID_PARAM', `Last-Event-ID must be an event id (a whole number), not ${JSON.stringify(value)}.`, '/Last-Event-ID');
    }
    return wholeNumber(value, 'Last-Event-ID', 0, Number.MAX_SAFE_INTEGER);
  }
  return query === undefined ? undefined : wholeNumber(query, 'since', 0, Number.MAX_SAFE_INTEGER);
}

function typesParam(value: string | undefined, known: readonly string[]): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const types = value.split(',').map((type) => type.trim());
  const unknown = types.filter((type) => !known.includes(type));
  if (unknown.length > 0) {
    throw new SluiceError('SLUICE_INVALID_PARAM', `Unknown event type ${JSON.stringify(unknown[0])}; the types are ${known.join(', ')}.`, '/types');
  }
  return new Set(types);
}

export const eventRoutes: FastifyPluginAsync<{ events: EventsView; limits?: Partial<EventStreamLimits> }> = async (app, { events, limits }) => {
  const heartbeatMs = limits?.heartbeatMs ?? HEARTBEAT_MS;
  const maxBufferedBytes = limits?.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  /** Each open stream's ending, so that closing the server ends them all; the heartbeat runs while there is one. */
  const open = new Map<() => void, (chunk: Buffer) => void>();
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  app.addHook('preClose', (done) => {
    for (const end of [...open.keys()]) end();
    done();
  });

  app.get<{ Querystring: EventsQuery }>(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'What happens, as it happens: Server-Sent Events of commits, rollout decisions, proxies, ACKs and NACKs',
        querystring,
        headers,
        response: responses({
          200: {
            description:
              'A stream of Server-Sent Events (`id:`, `event:`, `data:` one JSON object with `type` and `at`); `: keepalive` comments every 15 s. It ends when the client leaves or sluice stops, or when the client falls more than 1 MiB behind (resume with `Last-Event-ID`).',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        }),
      },
    },
    async (request, reply) => {
      const since = sinceParam(request.headers['last-event-id'], request.query.since);
      const filter = {
        ...(request.query.types === undefined ? {} : { types: typesParam(request.query.types, events.types) }),
        ...(request.query.service === undefined ? {} : { service: request.query.service }),
      };
      reply.hijack();
      const response = reply.raw;
      // `connection: close`: once the stream ends the connection goes too, so nothing idles on while the server closes.
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'close', 'x-accel-buffering': 'no' });
      response.flushHeaders();

      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        subscription.close();
        open.delete(end);
        if (open.size === 0) {
          clearInterval(heartbeat);
          heartbeat = undefined;
        }
        response.end();
        // A connection that cannot take even the end is dropped rather than waited for.
        if (response.writableLength > 0) response.destroy();
      };
      // A resumed history may be larger than the bound: it is allowed on top until the connection has taken it.
      let limit = maxBufferedBytes;
      const send = (chunk: Buffer): void => {
        if (ended) return;
        response.write(chunk);
        if (response.writableLength <= limit) return;
        request.log.info({ buffered: response.writableLength }, 'an event subscriber fell behind; disconnected (it may resume with Last-Event-ID)');
        end();
      };
      const subscription = events.subscribe({ ...(since === undefined ? {} : { since }), filter }, send);
      open.set(end, send);
      heartbeat ??= setInterval(() => {
        for (const write of [...open.values()]) write(KEEPALIVE);
      }, heartbeatMs);
      response.once('close', end);
      if (subscription.initial.length > 0) {
        limit += subscription.initial.length;
        send(subscription.initial);
        if (!response.writableNeedDrain) limit = maxBufferedBytes;
        else response.once('drain', () => (limit = maxBufferedBytes));
      }
    },
  );
};
