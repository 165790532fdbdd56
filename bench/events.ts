// bench:events — what watching costs: N simulated Envoys on ADS (in client worker processes) and
// sluice in its own process; for each of `changes` weight changes, the time from the PUT to the
// last ACK any client sent, first with no one reading GET /v1/events, then with `subscribers`
// concurrent readers (in this process) — side by side — and how many events each reader got.
//
//   npm run bench:events                       N = 1000, 100 subscribers, 10 changes
//   options: --size 2000 --subscribers 100 --changes 10 --mode sotw|delta --light

import { demoService } from './lib/admin-client.js';
import { startFleet } from './lib/fleet.js';
import type { XdsMode } from './lib/sim-envoy.js';
import { inProcessSluice, spawnSluice, type ServerHandle } from './lib/sluice-process.js';
import { Args, fmt, greenPercent, now, runMain, sleep, summarize, table, writeResults, type Summary } from './lib/util.js';

export interface EventsOptions {
  size: number;
  subscribers: number;
  changes: number;
  mode: XdsMode;
  /** Everything in this process (the smoke test's mode). */
  light?: boolean;
  log?: (line: string) => void;
}

export interface EventsCase {
  subscribers: number;
  /** PUT → last ACK of any client, per change. */
  lastAck: Summary;
  /** PUT → GET /v1/revisions/{n}?wait answered complete. */
  complete: Summary;
  /** Events each reader received (fewest, most); equal when every reader got every event. */
  eventsPerSubscriber: { min: number; max: number };
  /** Events sluice numbered during the case (the newest id a reader saw). */
  newestId: number;
  /** Readers whose stream ended before the case did (dropped for falling behind, or broken). */
  dropped: number;
  allInSync: boolean;
}

/** One reader of the stream: counts events and remembers the newest id, parsing line by line. */
class Subscriber {
  events = 0;
  newestId = 0;
  ended = false;
  private readonly controller = new AbortController();
  private rest = '';

  static async open(url: string): Promise<Subscriber> {
    const subscriber = new Subscriber();
    const response = await fetch(url, { signal: subscriber.controller.signal });
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
    void subscriber.read(response.body as AsyncIterable<Uint8Array>);
    return subscriber;
  }

  private async read(body: AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        const lines = (this.rest + decoder.decode(chunk, { stream: true })).split('\n');
        this.rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('id: ')) continue;
          this.events++;
          this.newestId = Number(line.slice(4));
        }
      }
    } catch {
      // aborted at the end of the case, or dropped
    }
    this.ended = true;
  }

  close(): void {
    this.controller.abort();
  }
}

async function runCase(subscribers: number, options: EventsOptions): Promise<EventsCase> {
  const log = options.log ?? (() => undefined);
  const sluice: ServerHandle = options.light ? await inProcessSluice() : await spawnSluice();
  const readers: Subscriber[] = [];
  try {
    await sluice.admin.putService('predict', demoService());
    const fleet = startFleet({ address: sluice.xdsAddress, mode: options.mode, size: options.size, light: options.light ?? false });
    try {
      const connect = await fleet.connect(120_000);
      log(`  ${subscribers} subscribers: ${connect.connected} proxies connected in ${fmt(connect.ms / 1000, 1)} s`);
      await sluice.admin.waitComplete(await sluice.admin.currentRevision(), options.size, 60_000);
      for (let i = 0; i < subscribers; i++) readers.push(await Subscriber.open(`${sluice.admin.baseUrl}/v1/events`));
      const lastAcks: number[] = [];
      const completes: number[] = [];
      let allInSync = connect.failed === 0;
      for (let step = 0; step < options.changes; step++) {
        await fleet.mark();
        const t0 = now();
        const revision = await sluice.admin.putWeights('predict', { blue: 100 - greenPercent(step + 1), green: greenPercent(step + 1) });
        const done = await sluice.admin.waitComplete(revision, options.size, 60_000);
        const report = await fleet.report();
        const acks = report.lastAckAt.filter((at) => at >= 0).map((at) => at - t0);
        lastAcks.push(Math.max(...acks));
        completes.push(done.at - t0);
        if (!done.complete || acks.length !== options.size || report.errors > 0) allInSync = false;
        await sleep(50);
      }
      // Every reader has what was sent once the newest id reached them all (or they are gone).
      const deadline = now() + 30_000;
      const newest = (): number => Math.max(0, ...readers.map((r) => r.newestId));
      while (readers.some((r) => !r.ended && r.newestId < newest()) && now() < deadline) await sleep(20);
      const counts = readers.map((r) => r.events);
      const result: EventsCase = {
        subscribers,
        lastAck: summarize(lastAcks),
        complete: summarize(completes),
        eventsPerSubscriber: { min: counts.length ? Math.min(...counts) : 0, max: counts.length ? Math.max(...counts) : 0 },
        newestId: newest(),
        dropped: readers.filter((r) => r.ended).length,
        allInSync,
      };
      log(`  ${subscribers} subscribers: last ACK p50 ${fmt(result.lastAck.p50)} ms; ${result.eventsPerSubscriber.min}–${result.eventsPerSubscriber.max} events per subscriber`);
      return result;
    } finally {
      for (const reader of readers) reader.close();
      await fleet.close();
    }
  } finally {
    await sluice.stop({ removeState: true });
  }
}

export async function runEvents(options: EventsOptions): Promise<EventsCase[]> {
  return [await runCase(0, options), await runCase(options.subscribers, options)];
}

export function eventsTable(cases: readonly EventsCase[]): string {
  return table(
    ['subscribers', 'last ACK p50', 'p99', 'complete p50', 'events per subscriber', 'newest id', 'dropped', 'in sync'],
    cases.map((c) => [
      c.subscribers,
      `${fmt(c.lastAck.p50)} ms`,
      `${fmt(c.lastAck.p99)} ms`,
      `${fmt(c.complete.p50)} ms`,
      c.subscribers === 0 ? '—' : c.eventsPerSubscriber.min === c.eventsPerSubscriber.max ? c.eventsPerSubscriber.min : `${c.eventsPerSubscriber.min}–${c.eventsPerSubscriber.max}`,
      c.subscribers === 0 ? '—' : c.newestId,
      c.dropped,
      c.allInSync ? 'yes' : 'NO',
    ]),
  );
}

async function main(argv: string[]): Promise<void> {
  const args = new Args(argv, ['size', 'subscribers', 'changes', 'mode', 'light']);
  const mode = (args.string('mode') ?? 'sotw') as XdsMode;
  if (mode !== 'sotw' && mode !== 'delta') throw new Error(`--mode takes sotw or delta, not ${mode}`);
  const options: EventsOptions = {
    size: args.number('size', 1000),
    subscribers: args.number('subscribers', 100),
    changes: args.number('changes', 10),
    mode,
    light: args.flag('light'),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  process.stderr.write(`events: N = ${options.size} (${mode}); 0 and ${options.subscribers} subscribers; ${options.changes} changes each\n`);
  const cases = await runEvents(options);
  process.stdout.write(`\n${eventsTable(cases)}\n`);
  const path = writeResults('events', { command: `npm run bench:events${argv.length ? ` -- ${argv.join(' ')}` : ''}`, options: { ...options, log: undefined }, cases });
  process.stdout.write(`\nresults: ${path}\n`);
  if (cases.some((c) => !c.allInSync || c.dropped > 0)) process.exitCode = 1;
}

runMain(import.meta.url, main);
