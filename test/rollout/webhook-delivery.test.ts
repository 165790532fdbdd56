// WebhookDelivery with a fake fetch and a fake clock (waits are recorded and return at once, an
// attempt's timeout is a signal the test aborts): retries with doubling backoff until an answer
// succeeds, gives up after the attempts with the last error, stops at once on an answer retrying
// cannot change, keeps one URL's messages in order, refuses beyond its queue, and stops on close.

import { describe, expect, it } from 'vitest';
import { WebhookDelivery, type WebhookDeliveryOptions } from '../../src/rollout/webhook-delivery.js';

const URL_A = 'https://hooks.example/a';

/** A fetch answering from a script (a status, or an error to throw), recording each call's body. */
function scriptedFetch(script: (number | Error)[]) {
  const calls: { url: string; body: unknown }[] = [];
  const fake = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), body: JSON.parse(String(init?.body)) });
    const next = script.shift() ?? 200;
    if (next instanceof Error) throw next;
    return new Response('ok', { status: next });
  }) as typeof fetch;
  return { fake, calls };
}

function refused(): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
}

function delivery(fetchFake: typeof fetch, waits: number[], options: WebhookDeliveryOptions = {}): WebhookDelivery {
  return new WebhookDelivery({
    fetch: fetchFake,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
}

describe('webhook delivery', () => {
  it('retries with doubling backoff, then succeeds', async () => {
    const { fake, calls } = scriptedFetch([503, refused(), 200]);
    const waits: number[] = [];
    const outcome = await delivery(fake, waits).deliver(URL_A, { text: 'hello' });
    expect(outcome).toEqual({ delivered: true, attempts: 3 });
    expect(waits).toEqual([1000, 2000]);
    expect(calls.map((c) => c.body)).toEqual([{ text: 'hello' }, { text: 'hello' }, { text: 'hello' }]);
  });

  it('gives up after the attempts with the last error (a receiver that is down: bounded, 1 + 2 + 4 s of waits)', async () => {
    const { fake, calls } = scriptedFetch([refused(), refused(), refused(), refused(), 200]);
    const waits: number[] = [];
    const outcome = await delivery(fake, waits).deliver(URL_A, { text: 'x' });
    expect(outcome).toEqual({ delivered: false, attempts: 4, error: 'ECONNREFUSED' });
    expect(calls).toHaveLength(4);
    expect(waits).toEqual([1000, 2000, 4000]);
  });

  it('does not retry an answer retrying cannot change (404 of a removed hook), but does a 429', async () => {
    const gone = scriptedFetch([404]);
    expect(await delivery(gone.fake, []).deliver(URL_A, {})).toEqual({ delivered: false, attempts: 1, error: 'HTTP 404' });
    const limited = scriptedFetch([429, 200]);
    expect(await delivery(limited.fake, []).deliver(URL_A, {})).toEqual({ delivered: true, attempts: 2 });
  });

  it('ends an attempt that gets no answer at its timeout, and tries again', async () => {
    const timeouts: AbortController[] = [];
    let calls = 0;
    const hanging = ((_url: string, init?: RequestInit) => {
      calls++;
      if (calls > 1) return Promise.resolve(new Response('ok'));
      return new Promise((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)));
    }) as typeof fetch;
    const webhooks = delivery(hanging, [], {
      attemptTimeoutMs: 5000,
      timeoutSignal: () => {
        const controller = new AbortController();
        timeouts.push(controller);
        return controller.signal;
      },
    });
    const outcome = webhooks.deliver(URL_A, {});
    await expect.poll(() => calls).toBe(1);
    timeouts[0]!.abort(new DOMException('timed out', 'TimeoutError'));
    expect(await outcome).toEqual({ delivered: true, attempts: 2 });
  });

  it("delivers one URL's messages in order, the next only once the previous one is done (retries included)", async () => {
    const { fake, calls } = scriptedFetch([500, 200, 200]);
    const webhooks = delivery(fake, []);
    const first = webhooks.deliver(URL_A, { n: 1 });
    const second = webhooks.deliver(URL_A, { n: 2 });
    expect(await Promise.all([first, second])).toEqual([
      { delivered: true, attempts: 2 },
      { delivered: true, attempts: 1 },
    ]);
    expect(calls.map((c) => c.body)).toEqual([{ n: 1 }, { n: 1 }, { n: 2 }]);
  });

  it('refuses at once beyond its queue, and gives up what is queued on close', async () => {
    let release: () => void = () => undefined;
    const blocked = ((_url: string, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        release = () => resolve(new Response('ok'));
        init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason));
      })) as typeof fetch;
    const webhooks = delivery(blocked, [], { maxQueued: 1 });
    const running = webhooks.deliver(URL_A, { n: 1 });
    const queued = webhooks.deliver(URL_A, { n: 2 });
    expect(await webhooks.deliver(URL_A, { n: 3 })).toEqual({ delivered: false, attempts: 0, error: '2 messages already queued for this webhook' });
    // Another URL has a queue of its own.
    expect(await delivery(scriptedFetch([]).fake, []).deliver('https://other.example/', {})).toEqual({ delivered: true, attempts: 1 });
    await webhooks.close();
    expect(await running).toEqual({ delivered: false, attempts: 1, error: 'sluice is stopping' });
    expect(await queued).toEqual({ delivered: false, attempts: 0, error: 'sluice is stopping' });
    expect(await webhooks.deliver(URL_A, {})).toEqual({ delivered: false, attempts: 0, error: 'sluice is stopping' });
    release();
  });
});
