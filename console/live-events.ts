// Follows the admin API's event stream (`GET /v1/events`) with fetch, so the tab's token can be
// sent as a header (EventSource cannot send one), through sluice's one frame reader
// (src/api/event-frames.ts). Resumes after the last id it saw when the stream breaks. Hands each
// chunk's events on; it keeps no state of sluice itself.

import type { ErrorBody } from '../src/api/common.js';
import { readFrames } from '../src/api/event-frames.js';
import type { EventData } from '../src/api/events.js';
import { authHeaders } from './session-token.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

const RETRY_MS = 2000;

/** The body as chunks, read with a reader (works where ReadableStream is not async-iterable). */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Follows the stream until the returned function is called. */
export function followEvents(take: (events: EventData[]) => void, report: (state: StreamState, refusal?: string) => void): () => void {
  const abort = new AbortController();
  let lastId: number | undefined;
  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
        if (lastId !== undefined) headers['last-event-id'] = String(lastId);
        const response = await fetch('/v1/events', { headers, signal: abort.signal });
        if (response.status === 401) {
          const refusal = ((await response.json()) as Partial<ErrorBody>).error?.message;
          report('unauthorized', refusal);
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`event stream answered ${response.status}`);
        report('live');
        await readFrames(chunks(response.body), ({ events }) => {
          const data = events.map((frame) => {
            if (frame.id !== undefined) lastId = frame.id;
            return frame.data as EventData;
          });
          if (data.length > 0) take(data);
        });
      } catch (error) {
        if (abort.signal.aborted) return;
        console.warn('sluice console: the event stream broke', error);
      }
      report('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  report('connecting');
  void run();
  return () => abort.abort();
}
