// A subscriber of GET /v1/events that never reads is disconnected once more than the bound is
// waiting for it, while a subscriber that reads gets every event and the proxies' ACKs still make
// each revision complete. The admin app is wired as main.ts wires it (store, fleet status, ledger,
// revision status, the journal and its sources) with a small bound; 1,000 proxies are driven
// through the stream callbacks by hand, so that their ACKs fill the slow client's buffers quickly.

import { connect as connectTcp, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { buildAdminApp } from '../../src/admin/app.js';
import { recordCommits } from '../../src/events/commit-events.js';
import { EventJournal } from '../../src/events/journal.js';
import { ProxyEvents } from '../../src/events/proxy-events.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { fanOutCallbacks } from '../../src/observability/fan-out-callbacks.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { ProxyReporter } from '../../src/sync/proxy-report.js';
import { RevisionLedger } from '../../src/sync/revision-ledger.js';
import { RevisionStatus } from '../../src/sync/revision-status.js';
import type { StreamCallbacks } from '../../src/xds/server/callbacks.js';
import { parseFrames, SseReader } from '../support/sse.js';
import { TYPES, versions } from './fleet-driver.js';
import { INITIAL_STATE, predictBody } from './harness.js';

const PROXIES = 1000;
/** Proxies that ACK in one event-loop turn: their events (~70 KB) stay well below the bound. */
const BATCH = 100;
const MAX_BUFFERED_BYTES = 256 * 1024;
/** Far more than a stalled loopback connection takes (its kernel buffers hold a few MB). */
const MAX_ROUNDS = 40;

let store: Store;
let journal: EventJournal;
let app: FastifyInstance;
let callbacks: StreamCallbacks;
let ledger: RevisionLedger;
let revisions: RevisionStatus;
let stopCommits: () => void;
let url: string;

beforeEach(async () => {
  store = await Store.open(SqliteAdapter.open(':memory:'), { initialState: INITIAL_STATE });
  const fleet = new FleetStatus();
  ledger = new RevisionLedger();
  revisions = new RevisionStatus(fleet, ledger, () => store.current().revision);
  journal = new EventJournal();
  stopCommits = recordCommits(store, journal);
  callbacks = fanOutCallbacks(fleet, new ProxyEvents({ journal }));
  app = buildAdminApp({
    store,
    fleet: new ProxyReporter(fleet, ledger, store),
    logger: pino({ level: 'silent' }),
    isReady: () => true,
    revisions,
    events: journal,
    eventStreamLimits: { maxBufferedBytes: MAX_BUFFERED_BYTES },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterEach(async () => {
  stopCommits();
  journal.close();
  await app.close();
  await store.close();
});

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return response.json();
}

/** A client that asks for the events and then never reads. */
function stalledClient(): { socket: Socket; received: Buffer[]; closed: Promise<void> } {
  const socket = connectTcp(Number(new URL(url).port), '127.0.0.1');
  socket.write('GET /v1/events?since=0 HTTP/1.1\r\nhost: sluice\r\n\r\n');
  socket.pause();
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received, closed };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A weights change committed and built: every proxy then ACKs it, a batch per turn, the fast reader keeping pace. */
async function pushRound(round: number, fast: SseReader, stop: () => boolean): Promise<number> {
  const { revision } = await call('PUT', '/v1/services/predict/weights', { blue: 100 - (round % 100), green: round % 100 });
  ledger.record(revision, [{ group: 'default', versions: versions(`r${revision}`) }]);
  revisions.ledgerChanged();
  for (let first = 0; first < PROXIES; first += BATCH) {
    for (let proxy = first; proxy < first + BATCH; proxy++) {
      for (const typeUrl of TYPES) {
        callbacks.responseSent(proxy + 1, typeUrl, versions(`r${revision}`)[typeUrl], `n${revision}`, 1);
        callbacks.acked(proxy + 1, typeUrl, versions(`r${revision}`)[typeUrl]);
      }
    }
    await nextTurn();
    await fast.reached(journal.latestId());
    if (stop()) break;
  }
  return revision;
}

it('drops a subscriber that does not read once over the bound; a reading one gets every event and proxies still converge', async () => {
  await call('PUT', '/v1/services/predict', predictBody());
  for (let proxy = 0; proxy < PROXIES; proxy++) {
    callbacks.streamOpened(proxy + 1, { id: `proxy-${proxy}`, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' }, { kind: 'sotw', aggregated: true });
  }
  const fast = await SseReader.open(`${url}/v1/events?since=0`);
  const slow = stalledClient();
  await vi.waitFor(() => expect(journal.subscriberCount()).toBe(2));

  let rounds = 0;
  while (journal.subscriberCount() === 2 && rounds < MAX_ROUNDS) {
    await pushRound(++rounds, fast, () => journal.subscriberCount() < 2);
  }
  expect(journal.subscriberCount()).toBe(1);
  const droppedAt = journal.latestId();

  // Life goes on: another change reaches every proxy and the reader that keeps up.
  const revision = await pushRound(++rounds, fast, () => false);
  const report = await call('GET', `/v1/revisions/${revision}?wait=10s`);
  expect(report).toMatchObject({ revision, complete: true });
  expect(report.proxies).toHaveLength(PROXIES);
  expect(report.proxies.every((p: { applied: boolean }) => p.applied)).toBe(true);
  expect(journal.latestId()).toBeGreaterThan(droppedAt);
  await fast.reached(journal.latestId());
  expect(fast.events.map((e) => e.id)).toEqual(Array.from({ length: journal.latestId() }, (_, i) => i + 1));
  fast.close();

  // The stalled client, reading at last, finds a stream that was cut short, after the events it had been sent.
  slow.socket.resume();
  await slow.closed;
  const body = Buffer.concat(slow.received).toString('utf8');
  const ids = parseFrames(body.slice(body.indexOf('\r\n\r\n') + 4)).events.map((e) => e.id);
  expect(ids.length).toBeGreaterThan(0);
  expect(ids.at(-1)).toBeLessThan(droppedAt);
  expect(ids.slice(0, 3)).toEqual([1, 2, 3]);
});
