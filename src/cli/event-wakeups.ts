// Wakes a command that follows something when sluice says anything happened: it reads the admin
// API's event stream (`GET /v1/events`) in the background and resolves `next()` at the next event
// (a revision, a rollout decision, an ACK or NACK, a proxy coming or going), or after `maxWaitMs`.
// Without the stream (an older sluice, or it broke) `next()` waits `fallbackMs`: plain polling.

import { setTimeout as sleep } from 'node:timers/promises';
import { readFrames } from '../api/event-frames.js';
import type { AdminClient } from './http-client.js';

export class EventWakeups {
  private readonly abort = new AbortController();
  private pending = false;
  private wake: (() => void) | undefined;
  private streaming = false;

  private constructor(private readonly fallbackMs: number) {}

  /** Starts reading `path` (an event-stream URL path); never throws for a missing stream. */
  static async open(client: AdminClient, path: string, fallbackMs: number): Promise<EventWakeups> {
    const wakeups = new EventWakeups(fallbackMs);
    const body = await client.stream(path, wakeups.abort.signal).catch(() => undefined);
    if (body !== undefined) {
      wakeups.streaming = true;
      void wakeups.read(body);
    }
    return wakeups;
  }

  /** Whether events arrive (else `next` only waits). */
  get live(): boolean {
    return this.streaming;
  }

  /** Resolves at the next event since the last call, or after `maxWaitMs`. */
  async next(maxWaitMs: number): Promise<void> {
    if (!this.streaming) {
      await sleep(Math.min(this.fallbackMs, maxWaitMs));
      return;
    }
    if (this.pending) {
      this.pending = false;
      return;
    }
    const timer = new AbortController();
    await Promise.race([
      new Promise<void>((resolve) => (this.wake = resolve)),
      sleep(maxWaitMs, undefined, { signal: timer.signal }).catch(() => undefined),
    ]);
    timer.abort();
    this.wake = undefined;
    this.pending = false;
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    try {
      await readFrames(body, ({ events }) => {
        if (events.length > 0) this.signal();
      });
    } catch {
      // Aborted by close(), or the stream broke: fall back to polling below.
    }
    this.streaming = false;
    this.signal();
  }

  private signal(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }
}
