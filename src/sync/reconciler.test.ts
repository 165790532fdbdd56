import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DesiredState } from '../model/types.js';
import { SnapshotCache } from '../xds/cache.js';
import { DEFAULT_GROUP } from '../xds/server/ads-server.js';
import { ROUTE_TYPE } from '../xds/type-urls.js';
import { Reconciler } from './reconciler.js';
import { RevisionLedger } from './revision-ledger.js';

function desired(revision: number, greenShare: number): DesiredState {
  return {
    revision,
    listeners: { default: { name: 'default', address: '0.0.0.0', port: 8080 } },
    services: {
      predict: {
        name: 'predict',
        listener: 'default',
        match: { prefix: '/predict' },
        hosts: ['*'],
        versions: [
          { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
          { name: 'green', endpoints: [{ address: '127.0.0.1', port: 5002 }] },
        ],
        weights: { blue: 100 - greenShare, green: greenShare },
        stable: 'blue',
        pinHeader: 'x-sluice-version',
        timeout: '30s',
      },
    },
  };
}

/** A state source that commits like the store: a new frozen state, then the subscribers. */
class FakeState {
  state = desired(1, 0);
  private readonly subscribers = new Set<(state: DesiredState) => void>();
  current(): DesiredState {
    return this.state;
  }
  subscribe(listener: (state: DesiredState) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }
  commit(greenShare: number): void {
    this.state = desired(this.state.revision + 1, greenShare);
    for (const subscriber of this.subscribers) subscriber(this.state);
  }
}

let source: FakeState;
let cache: SnapshotCache;
let ledger: RevisionLedger;
let reconciler: Reconciler;
let pushes: number;

beforeEach(() => {
  vi.useFakeTimers();
  source = new FakeState();
  cache = new SnapshotCache();
  ledger = new RevisionLedger();
  reconciler = new Reconciler({ state: source, cache, ledger, logger: pino({ level: 'silent' }), holdOffMs: 10 });
  reconciler.start();
  pushes = 0;
  cache.watch(DEFAULT_GROUP, () => pushes++);
  pushes = 0;
});

afterEach(() => {
  reconciler.stop();
  vi.useRealTimers();
});

function routesVersion(): string | undefined {
  return cache.get(DEFAULT_GROUP)?.type(ROUTE_TYPE).version;
}

describe('Reconciler', () => {
  it('builds the first snapshot at start, before any change', () => {
    expect(cache.get(DEFAULT_GROUP)).toBeDefined();
    expect(ledger.latest()).toBe(1);
  });

  it('sends a single change out at once, without waiting for the hold-off', () => {
    vi.advanceTimersByTime(1000);
    source.commit(10);
    vi.advanceTimersByTime(0);
    expect(pushes).toBe(1);
    expect(ledger.latest()).toBe(2);
  });

  it('coalesces 100 changes within 50 ms into a few pushes that end on the last state', () => {
    vi.advanceTimersByTime(1000);
    for (let i = 1; i <= 100; i++) {
      source.commit(i);
      vi.advanceTimersByTime(0.5);
    }
    vi.advanceTimersByTime(100);
    expect(pushes).toBeGreaterThanOrEqual(2);
    expect(pushes).toBeLessThanOrEqual(7);
    expect(ledger.latest()).toBe(101);
    const expected = new Reconciler({ state: { current: () => desired(101, 100), subscribe: () => () => {} }, cache: new SnapshotCache(), ledger: new RevisionLedger(), logger: pino({ level: 'silent' }) });
    expected.start();
    expect(routesVersion()).toBe(expected.current()?.type(ROUTE_TYPE).version);
    expected.stop();
  });

  it('does not wake streams for a revision that changes no resource, but records it', () => {
    vi.advanceTimersByTime(1000);
    source.commit(0);
    vi.advanceTimersByTime(100);
    expect(pushes).toBe(0);
    expect(ledger.latest()).toBe(2);
  });
});
