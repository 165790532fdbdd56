// `sluice rollout start|status|watch|pause|resume|approve|abort|history`: automated rollouts from a
// terminal or a pipeline, over the admin API's rollout routes. `status --wait` and `watch` follow
// the rollout — read again at every event of the event stream, and at least once a second — and
// exit 0 when it succeeded, 1 when it rolled back or was aborted, 2 on an error or when --timeout
// passed. The server decides; these only ask and show.

import type { RolloutAnswer, RolloutListAnswer } from '../../api/rollouts.js';
import type { RolloutDecision } from '../../model/types.js';
import { CliError, EXIT_OK, EXIT_USAGE, usageError, type ExitCode } from '../cli-error.js';
import { EventWakeups } from '../event-wakeups.js';
import type { AdminClient } from '../http-client.js';
import { formatWeights, table } from '../output.js';
import { parseFile } from '../resource-file.js';
import {
  exitForPhase,
  formatRemaining,
  historyLines,
  parseSteps,
  phaseText,
  rolloutScreen,
  stepsLine,
  type StepProxies,
} from '../rollout-view.js';
import type { Command, CommandContext } from './command.js';

/** Without the event stream, how often `watch` and `status --wait` read the rollout. */
const POLL_MS = 500;
/** With it, they still read it at least this often (a hold's countdown, and a safety net). */
const REFRESH_MS = 1000;
/** Clears a terminal and puts the cursor top left, so the next screen replaces the last. */
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

const VERBS = ['start', 'status', 'watch', 'pause', 'resume', 'approve', 'abort', 'history'] as const;
type Verb = (typeof VERBS)[number];

function rolloutPath(name: string, action = 'rollout'): string {
  return `/v1/services/${encodeURIComponent(name)}/${action}`;
}

function serviceArg(verb: Verb, args: string[]): string {
  const [name, ...rest] = args;
  if (name === undefined || rest.length > 0) throw usageError(`rollout ${verb} needs exactly one service`);
  return name;
}

async function readRollout(client: AdminClient, name: string): Promise<{ rollout: RolloutAnswer; proxies?: StepProxies }> {
  const rollout = await client.request<RolloutAnswer>('GET', rolloutPath(name));
  if (rollout.stepRevision === undefined) return { rollout };
  const proxies = await client.request<StepProxies>('GET', `/v1/revisions/${rollout.stepRevision}?service=${encodeURIComponent(name)}`);
  return { rollout, proxies };
}

/**
 * Reads the rollout until it has ended, calling `seen` with every reading; the exit code its last
 * phase means. Past `timeoutMs` it fails (exit 2) saying where the rollout stands.
 */
async function follow(client: AdminClient, name: string, timeoutMs: number | undefined, seen: (rollout: RolloutAnswer, proxies?: StepProxies) => void): Promise<ExitCode> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  const wakeups = await EventWakeups.open(client, '/v1/events', POLL_MS);
  try {
    for (;;) {
      const { rollout, proxies } = await readRollout(client, name);
      seen(rollout, proxies);
      const exit = exitForPhase(rollout.phase);
      if (exit !== undefined) return exit;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CliError(`gave up after --timeout ${formatRemaining(timeoutMs!)}: the rollout of ${rollout.candidate} on ${name} is ${phaseText(rollout, Date.now())}`, EXIT_USAGE);
      }
      await wakeups.next(Math.min(REFRESH_MS, left));
    }
  } finally {
    wakeups.close();
  }
}

function decisionKey(decision: RolloutDecision): string {
  return `${decision.at}\n${decision.event}\n${decision.step}`;
}

/**
 * One JSON object per line for what changed since the last reading: the rollout's phase, step or
 * weights, each new decision, the proxies that applied the step; `end` last.
 */
class JsonEvents {
  private readonly decisions = new Set<string>();
  private lastState = '';
  private lastProxies = '';

  constructor(private readonly write: (line: string) => void) {}

  seen(rollout: RolloutAnswer, proxies?: StepProxies): void {
    const { timeline, ...rest } = rollout;
    const state = JSON.stringify({ phase: rest.phase, step: rest.step, weights: rest.weights, reason: rest.reason });
    if (state !== this.lastState) {
      this.lastState = state;
      this.emit({ type: 'rollout', ...rest });
    }
    for (const decision of timeline) {
      const key = decisionKey(decision);
      if (this.decisions.has(key)) continue;
      this.decisions.add(key);
      this.emit({ type: 'decision', service: rollout.service, ...decision });
    }
    if (proxies !== undefined) {
      const summary = {
        revision: proxies.revision,
        applied: proxies.proxies.filter((p) => p.applied).length,
        total: proxies.proxies.length,
        pending: proxies.proxies.filter((p) => !p.applied).map((p) => ({ node: p.node.id, ...(p.rejected ? { rejected: p.rejected } : {}), ...(p.held ? { held: p.held } : {}) })),
      };
      const text = JSON.stringify(summary);
      if (text !== this.lastProxies) {
        this.lastProxies = text;
        this.emit({ type: 'proxies', service: rollout.service, ...summary });
      }
    }
  }

  end(service: string, phase: string, exit: ExitCode): void {
    this.emit({ type: 'end', service, phase, exit });
  }

  private emit(event: object): void {
    this.write(JSON.stringify(event));
  }
}

async function start({ args, file, candidate, steps, client, out }: CommandContext): Promise<ExitCode> {
  const name = serviceArg('start', args);
  if (file !== undefined && (candidate !== undefined || steps !== undefined)) throw usageError('rollout start takes -f FILE or --candidate and --steps, not both');
  let body: unknown;
  if (file !== undefined) body = await parseFile(file);
  else if (candidate !== undefined && steps !== undefined) body = { candidate, steps: parseSteps(steps) };
  else throw usageError('rollout start needs -f FILE, or --candidate VERSION and --steps (e.g. 10:2m,50:5m,approve,100)');
  const rollout = await client.request<RolloutAnswer>('POST', rolloutPath(name, 'rollouts'), { body });
  if (out.json) out.printJson(rollout);
  else {
    out.line(`${name}: rollout of ${rollout.candidate} started at revision ${rollout.revision} (stable ${rollout.stable}): ${stepsLine(rollout)}`);
    out.line(`follow it with: sluice rollout watch ${name}`);
  }
  return EXIT_OK;
}

async function status({ args, wait, timeoutMs, client, out }: CommandContext): Promise<ExitCode> {
  if (args.length === 0) {
    if (wait) throw usageError('rollout status --wait needs a service');
    const { rollouts } = await client.request<RolloutListAnswer>('GET', '/v1/rollouts');
    if (out.json) out.printJson({ rollouts });
    else if (rollouts.length === 0) out.line('no rollouts');
    else {
      const now = Date.now();
      out.lines(
        table(
          ['SERVICE', 'CANDIDATE', 'STABLE', 'STEP', 'PHASE', 'WEIGHTS'],
          rollouts.map((r) => [r.service, r.candidate, r.stable, `${Math.min(r.step + 1, r.steps.length)}/${r.steps.length}`, phaseText(r, now), r.weights ? formatWeights(r.weights) : '-']),
        ),
      );
    }
    return EXIT_OK;
  }
  const name = serviceArg('status', args);
  let last: { rollout: RolloutAnswer; proxies?: StepProxies } | undefined;
  const exit = wait ? await follow(client, name, timeoutMs, (rollout, proxies) => (last = { rollout, proxies })) : undefined;
  const { rollout, proxies } = last ?? (await readRollout(client, name));
  if (out.json) out.printJson(rollout);
  else out.lines(rolloutScreen(rollout, proxies, Date.now()));
  return exit ?? EXIT_OK;
}

async function watch({ args, timeoutMs, terminal, client, out }: CommandContext): Promise<ExitCode> {
  const name = serviceArg('watch', args);
  if (terminal === true && !out.json) {
    let lastScreen = '';
    return follow(client, name, timeoutMs, (rollout, proxies) => {
      const screen = rolloutScreen(rollout, proxies, Date.now()).join('\n');
      if (screen === lastScreen) return;
      lastScreen = screen;
      out.raw(`${CLEAR_SCREEN}${screen}\n`);
    });
  }
  const events = new JsonEvents((line) => out.line(line));
  let phase = '';
  const exit = await follow(client, name, timeoutMs, (rollout, proxies) => {
    phase = rollout.phase;
    events.seen(rollout, proxies);
  });
  events.end(name, phase, exit);
  return exit;
}

async function steer(verb: 'pause' | 'resume' | 'approve' | 'abort', { args, reason, client, out }: CommandContext): Promise<ExitCode> {
  const name = serviceArg(verb, args);
  if (reason !== undefined && verb !== 'pause' && verb !== 'abort') throw usageError(`rollout ${verb} takes no --reason`);
  const body = verb === 'pause' || verb === 'abort' ? (reason === undefined ? {} : { reason }) : undefined;
  const rollout = await client.request<RolloutAnswer>('POST', rolloutPath(name, `rollout/${verb}`), body === undefined ? {} : { body });
  if (out.json) out.printJson(rollout);
  else out.line(`${name}: rollout of ${rollout.candidate} ${phaseText(rollout, Date.now())} (revision ${rollout.revision})${rollout.weights ? `; ${formatWeights(rollout.weights)}` : ''}`);
  return EXIT_OK;
}

async function history({ args, client, out }: CommandContext): Promise<ExitCode> {
  const name = serviceArg('history', args);
  const rollout = await client.request<RolloutAnswer>('GET', rolloutPath(name));
  if (out.json) out.printJson(rollout.timeline);
  else out.lines([`rollout ${name}: ${rollout.candidate} (candidate) vs ${rollout.stable} (stable), started ${rollout.startedAt}`, ...historyLines(rollout)]);
  return EXIT_OK;
}

export const rolloutCommand: Command = {
  name: 'rollout',
  synopsis: 'rollout VERB SERVICE',
  summary:
    'automated rollouts: start (-f FILE, or --candidate V --steps 10:2m,50:5m,approve,100), status [--wait], watch, pause|abort [--reason], resume, approve, history',
  options: ['file', 'candidate', 'steps', 'reason', 'wait', 'timeout'],
  async run(context: CommandContext) {
    const [verb, ...args] = context.args;
    if (verb === undefined || !(VERBS as readonly string[]).includes(verb)) throw usageError(`rollout needs one of: ${VERBS.join(', ')}`);
    const withArgs = { ...context, args };
    if (verb !== 'start' && (context.file !== undefined || context.candidate !== undefined || context.steps !== undefined)) {
      throw usageError('-f, --candidate and --steps are for rollout start');
    }
    if (context.wait === true && verb !== 'status') throw usageError('--wait is for rollout status');
    if (context.timeoutMs !== undefined && verb !== 'status' && verb !== 'watch') throw usageError('--timeout is for rollout status --wait and rollout watch');
    switch (verb as Verb) {
      case 'start':
        return start(withArgs);
      case 'status':
        return status(withArgs);
      case 'watch':
        return watch(withArgs);
      case 'history':
        return history(withArgs);
      default:
        return steer(verb as 'pause' | 'resume' | 'approve' | 'abort', withArgs);
    }
  },
};
