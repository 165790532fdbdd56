// The notifier with the rollout controller over a real store on a SQLite file, a fake clock and
// fake proxies: a receiver that is down (the real delivery, its fetch refusing, its waits faked)
// neither delays the rollout nor loops — each undelivered message is one `notification-failed` in
// the timeline and nothing more is sent; the default webhooks apply only when a rollout names none;
// a replica that does not lead sends nothing; a restarted notifier does not repeat old phase changes.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutBody } from '../../src/model/rollout.js';
import type { Rollout } from '../../src/model/types.js';
import { RolloutController } from '../../src/rollout/controller.js';
import type { RolloutNotification } from '../../src/rollout/notifications.js';
import { RolloutNotifier } from '../../src/rollout/notifier.js';
import { WebhookDelivery, type DeliveryOutcome } from '../../src/rollout/webhook-delivery.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { INITIAL_STATE } from '../admin/harness.js';
import { iso, serviceBody, T0 } from './fixtures.js';

const HOOK = 'https://hooks.example/T1/secret-path';
/** One weighted step, no analysis: started → step reached → succeeded within one controller tick. */
const ONE_STEP: RolloutBody = { candidate: 'green', steps: [{ weight: 100 }] };

let dir: string;
let store: Store;
const clock = { now: T0 };
let stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-notify-'));
  clock.now = T0;
  store = await Store.open(SqliteAdapter.open(join(dir, 'state.db')), { initialState: INITIAL_STATE });
  await store.apply({ kind: 'putService', name: 'predict', body: serviceBody() }, { actor: 'alice' });
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function controller(): RolloutController {
  const c = new RolloutController({
    store,
    clock: () => clock.now,
    proxies: { revisionApplied: () => true, pendingProxies: () => [], onChange: () => () => undefined },
    sources: {
      fleet: () => ({ requests: 0, errors: 0 }),
      prometheus: async () => Promise.reject(new Error('not used')),
      webhook: async () => Promise.reject(new Error('not used')),
      shadow: () => ({ samples: 0, agreed: 0, userP50Ms: null, candidateP50Ms: null }),
    },
  });
  stops.push(() => c.stop());
  return c;
}

/** A delivery that records what it is handed and answers each with `outcome`. */
function recordingDelivery(outcome: DeliveryOutcome = { delivered: true, attempts: 1 }) {
  const sent: { url: string; notification: RolloutNotification }[] = [];
  return {
    sent,
    deliver: async (url: string, notification: RolloutNotification) => {
      sent.push({ url, notification });
      return outcome;
    },
  };
}

function notifier(deliver: (url: string, n: RolloutNotification) => Promise<DeliveryOutcome>, options: { defaultUrls?: string[]; isLeader?: () => boolean } = {}) {
  const n = new RolloutNotifier({ store, deliver, defaultUrls: options.defaultUrls ?? [HOOK], clock: () => clock.now, ...(options.isLeader ? { isLeader: options.isLeader } : {}) });
  n.start();
  stops.push(() => n.stop());
  return n;
}

async function startRollout(body: RolloutBody = ONE_STEP): Promise<void> {
  await store.apply({ kind: 'startRollout', name: 'predict', body, at: iso(clock.now), actor: 'alice' }, { actor: 'alice' });
}

function rollout(): Rollout {
  return store.current().rollouts!['predict']!;
}

describe('rollout notifications', () => {
  it('a receiver that is down: the rollout completes undelayed, then one notification-failed per message and nothing sent about them', async () => {
    const posts: string[] = [];
    // Every attempt hangs until the test refuses it: the rollout must not wait for any.
    const attempts: (() => void)[] = [];
    let attemptArrived: (() => void) | undefined;
    const down = ((_url: string | URL | Request, init?: RequestInit) => {
      posts.push(JSON.parse(String(init?.body)).kind);
      const attempt = new Promise<Response>((_resolve, reject) =>
        attempts.push(() => reject(new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }))),
      );
      attemptArrived?.();
      return attempt;
    }) as typeof fetch;
    const nextAttempt = async (): Promise<() => void> => {
      if (attempts.length === 0) await new Promise<void>((resolve) => (attemptArrived = resolve));
      return attempts.shift()!;
    };
    const delivery = new WebhookDelivery({ fetch: down, sleep: async () => undefined });
    stops.push(() => delivery.close());
    const n = notifier((url, message) => delivery.deliver(url, message));

    await startRollout();
    await controller().tick();
    expect(rollout().phase).toBe('succeeded');
    expect(rollout().timeline.filter((d) => d.event === 'notification-failed')).toEqual([]);

    // Now refuse every attempt: 3 messages (started, step-reached, succeeded), 4 attempts each, one at a time.
    for (let i = 0; i < 12; i++) (await nextAttempt())();
    await n.idle();
    const failures = rollout().timeline.filter((d) => d.event === 'notification-failed');
    expect(failures.map((d) => d.reason)).toEqual([
      'started notification to hooks.example failed after 4 attempt(s): ECONNREFUSED',
      'step-reached notification to hooks.example failed after 4 attempt(s): ECONNREFUSED',
      'succeeded notification to hooks.example failed after 4 attempt(s): ECONNREFUSED',
    ]);
    expect(posts).toEqual([...Array(4).fill('started'), ...Array(4).fill('step-reached'), ...Array(4).fill('succeeded')]);
    // Recording the failures sent nothing more, and the secret path is in no record.
    await delivery.idle();
    expect(posts).toHaveLength(12);
    expect(JSON.stringify(rollout().timeline)).not.toContain('secret-path');
  });

  it('sends each phase change once, in order, to the default webhooks when the rollout names none', async () => {
    const delivery = recordingDelivery();
    notifier(delivery.deliver, { defaultUrls: [HOOK, 'http://127.0.0.1:1/b'] });
    await startRollout({ candidate: 'green', steps: [{ weight: 10, hold: '1m' }, { approve: true }, { weight: 100 }] });
    const c = controller();
    await c.tick();
    clock.now += 60_000;
    await c.tick();
    await store.apply({ kind: 'steerRollout', name: 'predict', command: 'approve', at: iso(clock.now), actor: 'bob' }, { actor: 'bob' });
    await c.tick();
    const kinds = (url: string) => delivery.sent.filter((s) => s.url === url).map((s) => s.notification.kind);
    const expected = ['started', 'step-reached', 'awaiting-approval', 'step-reached', 'succeeded'];
    expect(kinds(HOOK)).toEqual(expected);
    expect(kinds('http://127.0.0.1:1/b')).toEqual(expected);
  });

  it("uses the rollout's own list instead of the default one, and [] sends nothing", async () => {
    const delivery = recordingDelivery();
    notifier(delivery.deliver);
    await startRollout({ ...ONE_STEP, notify: ['https://team.example/hook'] });
    await controller().tick();
    expect(new Set(delivery.sent.map((s) => s.url))).toEqual(new Set(['https://team.example/hook']));
    delivery.sent.length = 0;
    // green is stable now: roll blue out again, notifying nobody.
    await startRollout({ ...ONE_STEP, candidate: 'blue', notify: [] });
    await controller().tick();
    expect(rollout().phase).toBe('succeeded');
    expect(delivery.sent).toEqual([]);
  });

  it('sends nothing while this replica does not lead rollouts', async () => {
    const delivery = recordingDelivery();
    let leading = false;
    notifier(delivery.deliver, { isLeader: () => leading });
    await startRollout({ candidate: 'green', steps: [{ weight: 10, hold: '1m' }, { weight: 100 }] });
    expect(delivery.sent).toEqual([]);
    leading = true;
    await controller().tick();
    // Only what was decided while leading: the step reached, not the start seen before.
    expect(delivery.sent.map((s) => s.notification.kind)).toEqual(['step-reached']);
  });

  it('a restarted notifier does not repeat what was decided before it started', async () => {
    const before = recordingDelivery();
    const first = notifier(before.deliver);
    await startRollout({ candidate: 'green', steps: [{ weight: 10, hold: '1m' }, { weight: 100 }] });
    const c = controller();
    await c.tick();
    expect(before.sent.map((s) => s.notification.kind)).toEqual(['started', 'step-reached']);
    await first.stop();

    const after = recordingDelivery();
    notifier(after.deliver);
    expect(after.sent).toEqual([]);
    clock.now += 60_000;
    await c.tick();
    expect(after.sent.map((s) => s.notification.kind)).toEqual(['step-reached', 'succeeded']);
  });
});
