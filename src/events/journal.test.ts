import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseFrames, type SseEvent } from '../../test/support/sse.js';
import { EventJournal, type EventInput } from './journal.js';

const AT = '2025-01-01T00:00:00.000Z';
const clock = () => new Date(AT);

function revision(n: number, service = 'predict'): EventInput {
  return { type: 'revision', at: AT, revision: n, service };
}

function events(chunk: Buffer): SseEvent[] {
  return parseFrames(chunk.toString('utf8')).events;
}

/** Subscribes and keeps every chunk delivered to it. */
function follow(journal: EventJournal, options: Parameters<EventJournal['subscribe']>[0] = {}) {
  const chunks: Buffer[] = [];
  const subscription = journal.subscribe(options, (chunk) => chunks.push(chunk));
  return {
    subscription,
    chunks,
    initial: () => events(subscription.initial),
    live: () => chunks.flatMap(events),
  };
}

/** Deliveries happen once per burst, after the code that appended has run. */
const burstDelivered = () => new Promise<void>((resolve) => queueMicrotask(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('EventJournal', () => {
  it('numbers events from 1 in order and frames each with its id, name and JSON data', () => {
    const journal = new EventJournal(100, clock);
    journal.append(revision(1));
    journal.append({ type: 'ack', at: AT, node: 'n1', version: 'v1' });
    const replay = follow(journal, { since: 0 }).initial();
    expect(replay).toEqual([
      { id: 1, event: 'revision', data: { id: 1, type: 'revision', at: AT, revision: 1, service: 'predict' } },
      { id: 2, event: 'ack', data: { id: 2, type: 'ack', at: AT, node: 'n1', version: 'v1' } },
    ]);
    expect(journal.latestId()).toBe(2);
  });

  it('delivers live events only from the moment of subscribing, one chunk per burst, the same bytes to every unfiltered subscriber', async () => {
    const journal = new EventJournal(100, clock);
    journal.append(revision(1));
    const a = follow(journal);
    const b = follow(journal);
    expect(a.subscription.initial.length).toBe(0);
    journal.append(revision(2));
    journal.append(revision(3));
    await burstDelivered();
    expect(a.chunks).toHaveLength(1);
    expect(a.live().map((e) => e.id)).toEqual([2, 3]);
    expect(b.chunks[0]).toBe(a.chunks[0]);
  });

  it('keeps only the last `capacity` events: resuming inside them loses nothing, before them starts with a reset', () => {
    const journal = new EventJournal(5, clock);
    for (let n = 1; n <= 12; n++) journal.append(revision(n));
    expect(journal.oldestId()).toBe(8);
    expect(follow(journal, { since: 9 }).initial().map((e) => e.id)).toEqual([10, 11, 12]);
    // 7 was seen, 8 is the oldest held: nothing is missing.
    expect(follow(journal, { since: 7 }).initial().map((e) => e.id)).toEqual([8, 9, 10, 11, 12]);
    const late = follow(journal, { since: 6 }).initial();
    expect(late[0]).toMatchObject({ event: 'reset', data: { type: 'reset', since: 6, oldest: 8, latest: 12 } });
    expect(late[0]!.id).toBeUndefined();
    expect(late[0]!.data['message']).toContain('events 7 to 7 are no longer held');
    expect(late.slice(1).map((e) => e.id)).toEqual([8, 9, 10, 11, 12]);
    expect(follow(journal, { since: 12 }).initial()).toEqual([]);
  });

  it('resumes without duplicates even while a burst is still being delivered', async () => {
    const journal = new EventJournal(100, clock);
    const early = follow(journal);
    journal.append(revision(1));
    journal.append(revision(2));
    // Before the burst reaches `early`, another client resumes after 1.
    const resumed = follow(journal, { since: 1 });
    journal.append(revision(3));
    await burstDelivered();
    expect(early.live().map((e) => e.id)).toEqual([1, 2, 3]);
    expect([...resumed.initial(), ...resumed.live()].map((e) => e.id)).toEqual([2, 3]);
  });

  it('answers an id newer than any it gave (sluice restarted) with a reset, then everything held', () => {
    const journal = new EventJournal(100, clock);
    journal.append(revision(1));
    const replay = follow(journal, { since: 40 }).initial();
    expect(replay[0]).toMatchObject({ event: 'reset', data: { since: 40, oldest: 1, latest: 1 } });
    expect(replay[0]!.data['message']).toContain('restarted');
    expect(replay.slice(1).map((e) => e.id)).toEqual([1]);
  });

  it('filters by type and by the service an event is about, in the history and live', async () => {
    const journal = new EventJournal(100, clock);
    journal.append(revision(1, 'predict'));
    journal.append(revision(2, 'rank'));
    journal.append({ type: 'nack', at: AT, node: 'n1', services: ['rank', 'predict'] });
    journal.append({ type: 'ack', at: AT, node: 'n1' });
    const predict = follow(journal, { since: 0, filter: { service: 'predict' } });
    const revisions = follow(journal, { since: 0, filter: { types: new Set(['revision']) } });
    const rankNacks = follow(journal, { since: 0, filter: { types: new Set(['nack']), service: 'rank' } });
    expect(predict.initial().map((e) => e.id)).toEqual([1, 3]);
    expect(revisions.initial().map((e) => e.id)).toEqual([1, 2]);
    expect(rankNacks.initial().map((e) => e.id)).toEqual([3]);
    journal.append(revision(5, 'predict'));
    journal.append(revision(6, 'rank'));
    journal.append({ type: 'ack', at: AT, node: 'n1' });
    await burstDelivered();
    expect(predict.live().map((e) => e.id)).toEqual([5]);
    expect(revisions.live().map((e) => e.id)).toEqual([5, 6]);
    expect(rankNacks.chunks).toEqual([]);
  });

  it('stops delivering to a closed subscription', async () => {
    const journal = new EventJournal(100, clock);
    const gone = follow(journal);
    gone.subscription.close();
    journal.append(revision(1));
    await burstDelivered();
    expect(gone.chunks).toEqual([]);
    expect(journal.subscriberCount()).toBe(0);
  });

  it('is watched while someone subscribes and for the grace period after the last one left', () => {
    vi.useFakeTimers();
    const journal = new EventJournal(100, clock, 30_000);
    expect(journal.watched()).toBe(false);
    const one = follow(journal);
    const two = follow(journal);
    one.subscription.close();
    expect(journal.watched()).toBe(true);
    two.subscription.close();
    vi.advanceTimersByTime(29_999);
    expect(journal.watched()).toBe(true);
    // A client coming back within the grace period keeps it watched past the first period's end.
    const back = follow(journal);
    vi.advanceTimersByTime(10_000);
    expect(journal.watched()).toBe(true);
    back.subscription.close();
    vi.advanceTimersByTime(30_000);
    expect(journal.watched()).toBe(false);
  });
});
