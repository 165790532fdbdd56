// Drives every active rollout: on a timer, on each commit and on each proxy change it plans the
// next action of each rollout (plan.ts), runs due analyses through the injected metric sources and
// writes each decision as one store change by actor `rollout` (If-Match on the revision it read).
// All its state is in the desired state, so a restarted controller continues where it was.

import { SluiceError } from '../errors.js';
import { isFinal, type RolloutUpdate } from '../model/rollout.js';
import type { DesiredState, Rollout } from '../model/types.js';
import { runAnalysis, type MetricSources } from './analysis.js';
import { interferenceOf } from './interference.js';
import { plan, type AnalysisResult, type PendingProxy } from './plan.js';
import { decide } from './transitions.js';

const ROLLOUT_ACTOR = 'rollout';
const DEFAULT_TICK_MS = 250;
/** Plans one rollout may go through in one tick (a guard; a tick normally needs one to four). */
const MAX_PLANS_PER_TICK = 16;

/** The store as the controller uses it: read, subscribe, and apply its own kind of change. */
export interface RolloutStore {
  current(): DesiredState;
  apply(change: { kind: 'rolloutUpdate' } & RolloutUpdate, options: { actor: string; ifRevision?: number }): Promise<unknown>;
  subscribe(fn: (state: DesiredState) => void): () => void;
}

/** How far the fleet has come. */
export interface ProxyProgress {
  /**
   * Whether every connected proxy holds `service` as of `revision` or later (trivially true when none
   * is connected); what proxies reject of other services and listeners does not matter.
   */
  revisionApplied(revision: number, service: string): boolean;
  /** The connected proxies that do not, each with the message of the NACK that holds it back if there is one. */
  pendingProxies(revision: number, service: string): PendingProxy[];
  /** Calls `listener` whenever proxies may have applied more; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

export interface RolloutControllerOptions {
  store: RolloutStore;
  proxies: ProxyProgress;
  sources: MetricSources;
  clock: () => number;
  /** Period of the timer (default 250 ms); commits and proxy changes wake the controller too. */
  tickMs?: number;
  /** With several replicas only the leader drives rollouts; absent, this one always does. */
  isLeader?: () => boolean;
  /** Hears about a failed step of one rollout; the next tick tries again. */
  onError?: (error: unknown, service: string) => void;
}

function isRevisionMismatch(error: unknown): boolean {
  return error instanceof SluiceError && error.code === 'SLUICE_REVISION_MISMATCH';
}

export class RolloutController {
  private timer: NodeJS.Timeout | undefined;
  private readonly stopListening: (() => void)[] = [];
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(private readonly options: RolloutControllerOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.tickMs ?? DEFAULT_TICK_MS);
    this.timer.unref();
    this.stopListening.push(this.options.store.subscribe(() => this.wake()));
    this.stopListening.push(this.options.proxies.onChange(() => this.wake()));
    this.wake();
  }

  /** Stops waking and waits for a running tick to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const stop of this.stopListening.splice(0)) stop();
    await this.running;
  }

  /** Runs a tick now, or right after the running one. */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.wakeAgain = true;
      return;
    }
    this.running = this.tick().finally(() => {
      this.running = undefined;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
  }

  /** Takes every active rollout as far as it can go now. */
  async tick(): Promise<void> {
    if (this.options.isLeader && !this.options.isLeader()) return;
    const rollouts = Object.values(this.options.store.current().rollouts ?? {}).filter((r) => !isFinal(r.phase));
    await Promise.all(
      rollouts.map(async ({ service }) => {
        try {
          await this.drive(service);
        } catch (error) {
          this.options.onError?.(error, service);
        }
      }),
    );
  }

  private async drive(name: string): Promise<void> {
    const { store, proxies, sources, clock } = this.options;
    /** An analysis that ran, kept while the rollout it judged is unchanged. */
    let analysis: { of: string; result: AnalysisResult } | undefined;
    for (let plans = 0; plans < MAX_PLANS_PER_TICK; plans++) {
      const state = store.current();
      const rollout: Rollout | undefined = state.rollouts?.[name];
      if (rollout === undefined || isFinal(rollout.phase)) return;
      const now = clock();
      const key = JSON.stringify(rollout);
      const interference = interferenceOf(rollout, Object.hasOwn(state.services, name) ? state.services[name] : undefined);
      const stepRevisionApplied = rollout.stepRevision !== undefined && proxies.revisionApplied(rollout.stepRevision, name);
      const waiting = rollout.phase === 'waiting-for-proxies' && !stepRevisionApplied && rollout.stepRevision !== undefined;
      const action = plan(rollout, {
        now,
        stepRevisionApplied,
        ...(waiting ? { pendingProxies: proxies.pendingProxies(rollout.stepRevision!, name) } : {}),
        ...(interference === undefined ? {} : { interference }),
        ...(analysis?.of === key ? { analysis: analysis.result } : {}),
      });
      if (action.kind === 'nothing') return;
      if (action.kind === 'analyze') {
        analysis = { of: key, result: await runAnalysis(rollout, action, sources) };
        continue;
      }
      const update = decide(rollout, action, { now, actor: ROLLOUT_ACTOR, revision: state.revision + 1 });
      try {
        await store.apply({ kind: 'rolloutUpdate', ...update }, { actor: ROLLOUT_ACTOR, ifRevision: state.revision });
        analysis = undefined;
      } catch (error) {
        // Someone committed in between: plan again on the newer state (with the same analysis if
        // the rollout itself did not change).
        if (!isRevisionMismatch(error)) throw error;
      }
    }
  }
}
