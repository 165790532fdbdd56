// The event journal: numbers every event (ids from 1, in order), serializes it once as a
// Server-Sent Events frame, keeps the last EVENT_HISTORY of them in a ring and hands them to
// subscribers — live, in one chunk per burst, and on resume whatever followed the id they last
// saw. Knows nothing of HTTP, of the store or of Envoy; sources append, routes subscribe.

/** Events kept for resuming; an id older than that gets a `reset` first. */
export const EVENT_HISTORY = 10_000;
/** How long after the last subscriber left the journal still counts as watched (a client reconnecting). */
export const WATCHED_GRACE_MS = 30_000;

/** What a source appends (its shapes are the API's, src/api/events.ts): `service` (or `services`) names what the event is about, for `?service=`. */
export interface EventInput {
  type: string;
  /** ISO 8601 time of what happened. */
  at: string;
  service?: string;
  services?: readonly string[];
  [field: string]: unknown;
}

export interface JournalEntry {
  id: number;
  type: string;
  services: readonly string[];
  /** `id:`, `event:` and `data:` lines, ready to write. */
  frame: Buffer;
}

export interface EventFilter {
  types?: ReadonlySet<string>;
  service?: string;
}

export interface SubscribeOptions {
  /** The last id the subscriber saw: it gets every later event still held, or a `reset` first. */
  since?: number;
  filter?: EventFilter;
}

export interface JournalSubscription {
  /** What to write first: a `reset` when events after `since` are gone, then the held events after it. */
  initial: Buffer;
  close(): void;
}

interface Subscriber {
  filter: EventFilter;
  /** The newest id this subscriber has been given. */
  after: number;
  deliver(chunk: Buffer): void;
}

function matches(entry: JournalEntry, filter: EventFilter): boolean {
  if (filter.types !== undefined && !filter.types.has(entry.type)) return false;
  return filter.service === undefined || entry.services.includes(filter.service);
}

function aboutServices(event: EventInput): readonly string[] {
  if (event.service !== undefined) return [event.service];
  return event.services ?? [];
}

export class EventJournal {
  private readonly ring: (JournalEntry | undefined)[];
  private latest = 0;
  /** Appended since the last delivery (kept apart from the ring: a burst may outgrow it). */
  private pending: JournalEntry[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly capacity: number = EVENT_HISTORY,
    private readonly now: () => Date = () => new Date(),
    private readonly graceMs: number = WATCHED_GRACE_MS,
  ) {
    this.ring = new Array<JournalEntry | undefined>(capacity);
  }

  /** The newest id given out (0 before the first event). */
  latestId(): number {
    return this.latest;
  }

  /** The oldest id still held. */
  oldestId(): number {
    return Math.max(1, this.latest - this.capacity + 1);
  }

  /** True while someone subscribes, or did within the grace period: sources record costly events only then. */
  watched(): boolean {
    return this.subscribers.size > 0 || this.graceTimer !== undefined;
  }

  subscriberCount(): number {
    return this.subscribers.size;
  }

  append(event: EventInput): void {
    const id = ++this.latest;
    const data = JSON.stringify({ id, ...event });
    const entry: JournalEntry = { id, type: event.type, services: aboutServices(event), frame: Buffer.from(`id: ${id}\nevent: ${event.type}\ndata: ${data}\n\n`) };
    this.ring[(id - 1) % this.capacity] = entry;
    if (this.subscribers.size > 0) {
      if (this.pending.length === 0) queueMicrotask(() => this.deliver());
      this.pending.push(entry);
    }
  }

  subscribe(options: SubscribeOptions, deliver: (chunk: Buffer) => void): JournalSubscription {
    const subscriber: Subscriber = { filter: options.filter ?? {}, after: this.latest, deliver };
    const initial = options.since === undefined ? [] : this.resume(options.since, subscriber.filter);
    this.subscribers.add(subscriber);
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    return {
      initial: Buffer.concat(initial),
      close: () => {
        if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
        this.graceTimer = setTimeout(() => (this.graceTimer = undefined), this.graceMs);
        this.graceTimer.unref();
      },
    };
  }

  /** Ends the grace period at once (on shutdown). */
  close(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  /** Frames for a subscriber that last saw `since`: a reset when events after it are gone, then those held. */
  private resume(since: number, filter: EventFilter): Buffer[] {
    const oldest = this.oldestId();
    const frames: Buffer[] = [];
    let from = since + 1;
    if (since > this.latest || (this.latest > 0 && since < oldest - 1)) {
      frames.push(this.resetFrame(since, oldest));
      from = oldest;
    }
    for (let id = from; id <= this.latest; id++) {
      const entry = this.ring[(id - 1) % this.capacity]!;
      if (matches(entry, filter)) frames.push(entry.frame);
    }
    return frames;
  }

  private resetFrame(since: number, oldest: number): Buffer {
    const why =
      since > this.latest
        ? `event ${since} is newer than the newest, ${this.latest}: sluice restarted and numbers events from 1 again`
        : `events ${since + 1} to ${oldest - 1} are no longer held (the history keeps the last ${this.capacity})`;
    const data = { type: 'reset', at: this.now().toISOString(), since, oldest, latest: this.latest, message: `${why}; re-read the state, then follow the events held from ${oldest}.` };
    return Buffer.from(`event: reset\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** One chunk per subscriber per burst: the frames of every event it has not been given that it wants. */
  private deliver(): void {
    const burst = this.pending;
    this.pending = [];
    if (burst.length === 0) return;
    let unfiltered: Buffer | undefined;
    for (const subscriber of this.subscribers) {
      const fresh = burst.filter((entry) => entry.id > subscriber.after);
      subscriber.after = burst.at(-1)!.id;
      const { types, service } = subscriber.filter;
      let chunk: Buffer;
      if (types === undefined && service === undefined && fresh.length === burst.length) {
        chunk = unfiltered ??= Buffer.concat(burst.map((entry) => entry.frame));
      } else {
        chunk = Buffer.concat(fresh.filter((entry) => matches(entry, subscriber.filter)).map((entry) => entry.frame));
      }
      if (chunk.length > 0) subscriber.deliver(chunk);
    }
  }
}
