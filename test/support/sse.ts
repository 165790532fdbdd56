// Reads Server-Sent Events as a client would: `parseFrames` turns text into events and comment
// lines; `SseReader` follows a `fetch` stream, keeps everything it read and lets a test await the
// next event that matches. Every event an `SseReader` reads must be one of the API's event shapes
// (src/api/events.ts): one that is not fails the wait that meets it. Reading only; it never
// answers the server.

import { Value } from '@sinclair/typebox/value';
import { readFrames, splitFrames } from '../../src/api/event-frames.js';
import { eventDataSchema } from '../../src/api/events.js';

export interface SseEvent {
  /** The `id:` line, when the frame had one. */
  id?: number;
  event: string;
  data: Record<string, any>;
}

export interface Parsed {
  events: SseEvent[];
  comments: string[];
  /** An unfinished frame at the end of the text. */
  rest: string;
}

/** Why an event is not the shape the API documents for its type, if it is not. */
export function shapeProblem({ event, data }: SseEvent): string | undefined {
  const problem = Value.Errors(eventDataSchema, data).First();
  if (problem !== undefined) return `event ${event}: ${JSON.stringify(data)} is not one of the API's event shapes (${problem.path}: ${problem.message})`;
  return data['type'] === event ? undefined : `event ${event}: its data says type ${JSON.stringify(data['type'])}`;
}

/** The stream's one splitter (src/api/event-frames.ts), its data read as objects. */
export function parseFrames(text: string): Parsed {
  return splitFrames(text) as Parsed;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Resolves when the server ends the stream (or it breaks), with how. */
  readonly ended: Promise<'ended' | 'broken'>;
  private cursor = 0;
  private wake: (() => void) | undefined;
  private done = false;
  /** The first event read that is not an API event shape. */
  private misshapen: string | undefined;

  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    this.ended = this.read();
  }

  /** Connects; fails unless the answer is a 200 event stream. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    if (response.status !== 200 || !String(response.headers.get('content-type')).startsWith('text/event-stream')) {
      throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    }
    return new SseReader(response, controller);
  }

  private async read(): Promise<'ended' | 'broken'> {
    let how: 'ended' | 'broken' = 'ended';
    try {
      await readFrames(this.response.body as AsyncIterable<Uint8Array>, ({ events, comments }) => {
        const read = events as SseEvent[];
        this.events.push(...read);
        this.misshapen ??= read.map(shapeProblem).find((problem) => problem !== undefined);
        this.comments.push(...comments);
        this.wake?.();
      });
    } catch {
      how = 'broken';
    }
    this.done = true;
    this.wake?.();
    return how;
  }

  /** The next event not yet taken that matches, skipping the others; fails after `timeoutMs` or when the stream ends. */
  async next(matches: (event: SseEvent) => boolean = () => true, timeoutMs = 10_000): Promise<SseEvent> {
    return this.waitUntil(() => {
      while (this.cursor < this.events.length) {
        const event = this.events[this.cursor++]!;
        if (matches(event)) return event;
      }
      return undefined;
    }, timeoutMs);
  }

  /** Waits until an event with `id` or later has been read, whatever `next` has taken. */
  async reached(id: number, timeoutMs = 10_000): Promise<void> {
    await this.waitUntil(() => this.events.some((event) => event.id !== undefined && event.id >= id) || undefined, timeoutMs);
  }

  private async waitUntil<T>(found: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.misshapen !== undefined) throw new Error(this.misshapen);
      const result = found();
      if (result !== undefined) return result;
      const read = JSON.stringify(this.events.slice(-10).map((e) => [e.id, e.event]));
      if (this.done) throw new Error(`the stream ended; read ${this.events.length} events, the last: ${read}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`not there within ${timeoutMs} ms; read ${this.events.length} events, the last: ${read}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  close(): void {
    this.controller.abort();
  }
}
