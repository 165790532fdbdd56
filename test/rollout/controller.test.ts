// The rollout controller over a real store on a SQLite file, with a fake clock, fake proxies
// (which revision every proxy has applied) and fake metric sources: it advances through holds and
// an approval gate to promotion, rolls back on failing analysis, pauses on inconclusive ones and
// on proxies that do not apply a step within proxyTimeout, yields to an abort and to someone else's weights, and continues after a restart where it was.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RolloutBody } from '../../src/model/rollout.js';
import type { Rollout } from '../../src/model/types.js';
import { RolloutController } from '../../src/rollout/controller.js';
import { SqliteAdapter } from '../../src/state/sqlite-adapter.js';
import { Store } from '../../src/state/store.js';
import { INITIAL_STATE } from '../admin/harness.js';
import { iso, rolloutBody, serviceBody, T0 } from './fixtures.js';

interface World {
  store: Store;
  controller: RolloutController;
  clock: { now: number };
  /** Every proxy has applied revisions up to this one; `lagging` (with its last NACK) has applied none. */
  proxies: { applied: number; changed: () => void; lagging?: { node: string; nack?: string } };
  traffic: { requests: number; errors: number; since: number[] };
  errors: unknown[];
}

let dir: string;
let world: World;

async function open(clockAt = T0): Promise<World> {
  const store = await Store.open(SqliteAdapter.open(join(dir, 'state.db')), { initialState: INITIAL_STATE });
  const clock = { now: clockAt };
  const proxies: World['proxies'] = { applied: 0, changed: () => undefined as void };
  const traffic = { requests: 100, errors: 0, since: [] as number[] };
  const errors: unknown[] = [];
  const controller = new RolloutController({
    store,
    clock: () => clock.now,
    proxies: {
      revisionApplied: (revision) => revision <= proxies.applied && proxies.lagging === undefined,
      pendingProxies: (revision) => [
        ...(revision <= proxies.applied ? [] : [{ node: 'envoy-1' }]),
        ...(proxies.lagging === undefined ? [] : [proxies.lagging]),
      ],
      onChange: (listener) => {
        proxies.changed = listener;
        return () => undefined;
      },
    },
    sources: {
      fleet: (_service, _version, since) => {
        traffic.since.push(since);
        return { requests: traffic.requests, errors: traffic.errors };
      },
      prometheus: async () => Promise.reject(new Error('not used')),
      webhook: async () => Promise.reject(new Error('not used')),
      shadow: () => ({ samples: 0, agreed: 0, userP50Ms: null, candidateP50Ms: null }),
    },
    onError: (error) => errors.push(error),
  });
  return { store, controller, clock, proxies, traffic, errors };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-rollout-'));
  world = await open();
  await world.store.apply({ kind: 'putService', name: 'predict', body: serviceBody() }, { actor: 'alice' });
});

afterEach(async () => {
  await world.controller.stop();
  await world.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function current(): Rollout {
  return world.store.current().rollouts!['predict']!;
}

function service() {
  return world.store.current().services['predict']!;
}

async function start(body: RolloutBody = rolloutBody()): Promise<void> {
  await world.store.apply({ kind: 'startRollout', name: 'predict', body, at: iso(world.clock.now), actor: 'alice' }, { actor: 'alice' });
}

async function command(command: 'pause' | 'resume' | 'approve' | 'abort', reason?: string): Promise<number> {
  const at = iso(world.clock.now);
  const change = { kind: 'steerRollout' as const, name: 'predict', command, at, actor: 'bob', ...(reason ? { reason } : {}) };
  return (await world.store.apply(change, { actor: 'bob' })).revision;
}

/** Moves the fake clock to T0 + `ms` and runs one tick. */
async function at(ms: number): Promise<Rollout> {
  world.clock.now = T0 + ms;
  await world.controller.tick();
  return current();
}

/** Every proxy applies everything committed so far. */
function proxiesCatchUp(): void {
  world.proxies.applied = world.store.current().revision;
}

function events(): string[] {
  return current().timeline.map((d) => `${d.step}:${d.event}${d.outcome ? `:${d.outcome}` : ''}`);
}

describe('the rollout controller', () => {
  it('sets each step, holds only once every proxy applied it, passes an approval gate and promotes', async () => {
    await start();
    let r = await at(0);
    expect(r).toMatchObject({ phase: 'waiting-for-proxies', step: 0, stepWeights: { blue: 80, green: 20 } });
    expect(service().weights).toEqual({ blue: 80, green: 20 });
    expect(r.stepRevision).toBe(world.store.current().revision);

    // Time passes, but the proxies have not applied the step: the hold does not start.
    r = await at(30_000);
    expect(r.phase).toBe('waiting-for-proxies');
    proxiesCatchUp();
    r = await at(31_000);
    expect(r).toMatchObject({ phase: 'holding', holdStartedAt: iso(T0 + 31_000), holdUntil: iso(T0 + 91_000), nextAnalysisAt: iso(T0 + 51_000) });

    r = await at(51_000);
    expect(r).toMatchObject({ phase: 'holding', windowStart: iso(T0 + 51_000), nextAnalysisAt: iso(T0 + 71_000) });
    expect(world.traffic.since).toEqual([T0 + 31_000]);
    r = await at(71_000);
    r = await at(91_000);
    // The hold passed; the next step is an approval gate.
    expect(r).toMatchObject({ phase: 'awaiting-approval', step: 1 });
    r = await at(500_000);
    expect(r.phase).toBe('awaiting-approval');
    expect(service().weights).toEqual({ blue: 80, green: 20 });

    await command('approve');
    r = await at(500_000);
    expect(r).toMatchObject({ phase: 'waiting-for-proxies', step: 2, stepWeights: { blue: 50, green: 50 } });
    proxiesCatchUp();
    await at(500_001);
    for (const t of [520_001, 540_001]) await at(t);
    r = await at(560_001);
    expect(r.phase).toBe('succeeded');
    expect(service()).toMatchObject({ stable: 'green', weights: { blue: 0, green: 100 } });

    expect(events()).toEqual([
      '0:started',
      '0:weights-set',
      '0:hold-started',
      '0:analysis:pass',
      '0:analysis:pass',
      '0:analysis:pass',
      '0:hold-passed',
      '1:awaiting-approval',
      '1:approved',
      '2:weights-set',
      '2:hold-started',
      '2:analysis:pass',
      '2:analysis:pass',
      '2:analysis:pass',
      '2:hold-passed',
      '3:promoted',
    ]);
    const analysis = current().timeline.find((d) => d.event === 'analysis')!;
    expect(analysis).toMatchObject({
      actor: 'rollout',
      window: { from: iso(T0 + 31_000), to: iso(T0 + 51_000) },
      measurements: [{ metric: 'errors', outcome: 'pass', value: 0, requests: 100, errors: 0 }],
    });

    // Every decision is its own audited revision by actor "rollout"; people's are theirs.
    const audit = await world.store.audit({ limit: 100 });
    const byRollout = audit.filter((e) => e.actor === 'rollout');
    expect(byRollout.map((e) => e.change.kind)).toEqual(Array(byRollout.length).fill('rolloutUpdate'));
    expect(byRollout[0]?.summary).toBe('rollout of predict: step 3 promoted green 100');
    expect(audit.filter((e) => e.actor === 'bob').map((e) => e.summary)).toEqual(['approve rollout of predict']);
    expect(world.errors).toEqual([]);
  });

  it('rolls back in one revision when analysis fails beyond failureLimit', async () => {
    await start();
    await at(0);
    proxiesCatchUp();
    await at(1_000);
    world.traffic.errors = 30;
    const before = world.store.current().revision;
    const r = await at(21_000);
    expect(r).toMatchObject({ phase: 'rolled-back', failures: 1, finishedAt: iso(T0 + 21_000) });
    expect(r.reason).toBe('analysis failed 1 time(s), more than failureLimit 0: errors: error rate 0.3 (30 of 100) is above maxErrorRate 0.05');
    expect(service()).toMatchObject({ stable: 'blue', weights: { blue: 100, green: 0 } });
    expect(world.store.current().revision).toBe(before + 1);
    const [analysis, rollback] = r.timeline.slice(-2);
    expect(analysis).toMatchObject({ event: 'analysis', outcome: 'fail', measurements: [{ value: 0.3, requests: 100, errors: 30 }] });
    expect(rollback).toMatchObject({ event: 'rolled-back', revision: before + 1, weights: { blue: 100 } });

    // Nothing happens after the end.
    await at(100_000);
    expect(world.store.current().revision).toBe(before + 1);
  });

  it('keeps the window open while inconclusive, pauses past inconclusiveLimit and resumes on a person', async () => {
    await start();
    await at(0);
    proxiesCatchUp();
    await at(0);
    world.traffic.requests = 3;
    await at(20_000);
    await at(40_000);
    let r = await at(60_000);
    expect(world.traffic.since).toEqual([T0, T0, T0]);
    expect(r).toMatchObject({ phase: 'paused', pausedFrom: 'holding', holdRemainingMs: 0, inconclusive: 3 });
    expect(r.reason).toContain('3 inconclusive analyses in a row, more than inconclusiveLimit 2');
    expect(service().weights).toEqual({ blue: 80, green: 20 });

    r = await at(300_000);
    expect(r.phase).toBe('paused');
    await command('resume');
    world.traffic.requests = 100;
    r = await at(300_000);
    expect(r).toMatchObject({ phase: 'holding', holdUntil: iso(T0 + 300_000), nextAnalysisAt: iso(T0 + 320_000), inconclusive: 0 });
    r = await at(320_000);
    expect(r).toMatchObject({ phase: 'awaiting-approval', step: 1 });
  });

  it('pauses a step whose revision a proxy never applies after proxyTimeout, naming it and its NACK; resume waits afresh', async () => {
    await start(rolloutBody({ proxyTimeout: '2m' }));
    await at(0);
    proxiesCatchUp();
    world.proxies.lagging = { node: 'envoy-2', nack: 'cluster predict--green: no healthy upstream' };
    const stepRevision = current().stepRevision;
    let r = await at(119_999);
    expect(r.phase).toBe('waiting-for-proxies');

    r = await at(120_000);
    const reason =
      `revision ${stepRevision} of step 0 was not applied within proxyTimeout 2m by 1 proxy(ies): ` +
      '"envoy-2" (last NACK: cluster predict--green: no healthy upstream)';
    expect(r).toMatchObject({ phase: 'paused', pausedFrom: 'waiting-for-proxies', reason });
    expect(r.holdRemainingMs).toBeUndefined();
    expect(r.timeline.at(-1)).toEqual({ at: iso(T0 + 120_000), event: 'paused', step: 0, actor: 'rollout', reason });
    expect(service().weights).toEqual({ blue: 80, green: 20 });
    r = await at(600_000);
    expect(r.phase).toBe('paused');

    // Resumed, it waits again for a whole proxyTimeout, and holds once every proxy applied the step.
    await command('resume');
    r = await at(600_000);
    expect(r).toMatchObject({ phase: 'waiting-for-proxies', step: 0 });
    r = await at(719_999);
    expect(r.phase).toBe('waiting-for-proxies');
    delete world.proxies.lagging;
    r = await at(720_000);
    expect(r).toMatchObject({ phase: 'holding', holdStartedAt: iso(T0 + 720_000) });
    expect(events()).toEqual(['0:started', '0:weights-set', '0:paused', '0:resumed', '0:hold-started']);
    expect(world.errors).toEqual([]);
  });

  it('waits the default proxyTimeout of 5m for a proxy without a NACK', async () => {
    await start();
    await at(0);
    expect((await at(299_999)).phase).toBe('waiting-for-proxies');
    const r = await at(300_000);
    expect(r).toMatchObject({ phase: 'paused', pausedFrom: 'waiting-for-proxies' });
    expect(r.reason).toBe(`revision ${r.stepRevision} of step 0 was not applied within proxyTimeout 5m by 1 proxy(ies): "envoy-1"`);
  });

  it('abort sends all traffic to stable in one revision and the controller leaves it there', async () => {
    await start();
    await at(0);
    proxiesCatchUp();
    await at(0);
    const revision = await command('abort', 'alarm from X');
    expect(service().weights).toEqual({ blue: 100, green: 0 });
    expect(current()).toMatchObject({ phase: 'aborted', reason: 'alarm from X', stepRevision: revision });
    await at(120_000);
    expect(world.store.current().revision).toBe(revision);
  });

  it('is not stopped silently by a weights change: refused during the rollout, and with the override the change itself ends it', async () => {
    await start();
    await at(0);
    const shift = { kind: 'setWeights', name: 'predict', weights: { blue: 60, green: 40 } } as const;
    await expect(world.store.apply(shift, { actor: 'carol' })).rejects.toMatchObject({ code: 'SLUICE_ROLLOUT_IN_PROGRESS' });
    expect((await at(500)).phase).not.toBe('aborted');
    await world.store.apply({ ...shift, override: 'rollout' }, { actor: 'carol' });
    const r = await at(1_000);
    expect(r).toMatchObject({ phase: 'aborted', reason: 'setting weights by carol with override=rollout' });
    expect(service().weights).toEqual({ blue: 60, green: 40 });
  });

  it('continues after a restart where it was: same step, the hold to its original deadline', async () => {
    await start();
    await at(0);
    proxiesCatchUp();
    await at(10_000);
    await at(30_000);
    const before = current();
    expect(before).toMatchObject({ phase: 'holding', holdUntil: iso(T0 + 70_000), nextAnalysisAt: iso(T0 + 50_000) });

    await world.controller.stop();
    await world.store.close();
    world = await open(T0 + 45_000);
    // A restarted sluice's proxies have applied the current revision once they reconnect.
    proxiesCatchUp();
    expect(current()).toEqual(before);

    let r = await at(45_000);
    expect(r).toEqual(before);
    r = await at(50_000);
    expect(r).toMatchObject({ phase: 'holding', step: 0 });
    r = await at(69_999);
    expect(r).toMatchObject({ phase: 'holding', step: 0 });
    r = await at(70_000);
    expect(r).toMatchObject({ phase: 'awaiting-approval', step: 1 });
    expect(events().filter((e) => e === '0:weights-set' || e === '0:hold-started')).toEqual(['0:weights-set', '0:hold-started']);
  });

  it('wakes on its own once started: on commits, proxy changes and its timer', async () => {
    world.controller.start();
    await start();
    await vi.waitFor(() => expect(current().phase).toBe('waiting-for-proxies'));
    world.proxies.applied = world.store.current().revision;
    world.proxies.changed();
    await vi.waitFor(() => expect(current().phase).toBe('holding'));
    world.clock.now = T0 + 20_000;
    await vi.waitFor(() => expect(current().timeline.at(-1)?.event).toBe('analysis'));
  });
});
