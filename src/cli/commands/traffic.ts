// The traffic actions on one service: `set-weights`, `promote` and `rollback`, each one admin API
// call (with --if-match when given, and --force sent as ?override=rollout) answered by the
// service's weights at the new revision, saying when nothing changed or a rollout was aborted.
// The server validates and guards rollouts; these only read their arguments.

import type { ServiceChangeAnswer } from '../../api/desired-state.js';
import type { Weights } from '../../model/types.js';
import { EXIT_OK, usageError } from '../cli-error.js';
import { formatWeights, type Output } from '../output.js';
import type { Command, CommandContext } from './command.js';
import { abortedRolloutText, withForceHint, withRolloutOverride } from './guardrails.js';

const WEIGHT_RE = /^([^=\s]+)=(\d{1,3}(?:\.\d+)?)$/;

function servicePath(name: string, action: string): string {
  return `/v1/services/${encodeURIComponent(name)}/${action}`;
}

function report(out: Output, answer: ServiceChangeAnswer): typeof EXIT_OK {
  if (out.json) {
    out.printJson(answer);
    return EXIT_OK;
  }
  const rollout = answer.abortedRollout;
  if (rollout !== undefined) out.line(`${answer.name}: ${abortedRolloutText(rollout)}`);
  const revision = answer.unchanged === true ? `unchanged at revision ${answer.revision}` : `revision ${answer.revision}`;
  out.line(`${answer.name}: ${formatWeights(answer.weights)} (stable ${answer.stable}), ${revision}`);
  return EXIT_OK;
}

/** `blue=90 green=10` → `{blue: 90, green: 10}`. */
function parseWeights(args: string[]): Weights {
  const weights: Weights = {};
  for (const arg of args) {
    const match = WEIGHT_RE.exec(arg);
    if (match === null) throw usageError(`"${arg}" is not VERSION=PERCENT (e.g. green=10)`);
    const [, version = '', percent = ''] = match;
    if (Object.hasOwn(weights, version)) throw usageError(`version "${version}" is given twice`);
    weights[version] = Number(percent);
  }
  return weights;
}

export const setWeightsCommand: Command = {
  name: 'set-weights',
  synopsis: 'set-weights SERVICE VERSION=PERCENT...',
  summary: 'shift traffic, e.g. `set-weights predict blue=90 green=10` (unlisted versions get 0); --force aborts an active rollout',
  options: ['if-match', 'force'],
  async run({ args, ifMatch, force, client, out }: CommandContext) {
    const [name, ...pairs] = args;
    if (name === undefined || pairs.length === 0) throw usageError('set-weights needs a service and at least one VERSION=PERCENT');
    const body = parseWeights(pairs);
    return report(out, await withForceHint(client.request<ServiceChangeAnswer>('PUT', withRolloutOverride(servicePath(name, 'weights'), force), { body, ifMatch })));
  },
};

export const promoteCommand: Command = {
  name: 'promote',
  synopsis: 'promote SERVICE VERSION',
  summary: 'all traffic to VERSION, which becomes the stable version; --force aborts an active rollout',
  options: ['if-match', 'force'],
  async run({ args, ifMatch, force, client, out }: CommandContext) {
    const [name, version] = args;
    if (name === undefined || version === undefined || args.length > 2) throw usageError('promote needs a service and a version');
    const path = withRolloutOverride(servicePath(name, 'promote'), force);
    return report(out, await withForceHint(client.request<ServiceChangeAnswer>('POST', path, { body: { version }, ifMatch })));
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  synopsis: 'rollback SERVICE',
  summary: 'all traffic back to the stable version, in one push (also ends an active rollout)',
  options: ['if-match'],
  async run({ args, ifMatch, client, out }: CommandContext) {
    const [name] = args;
    if (name === undefined || args.length > 1) throw usageError('rollback needs exactly one service');
    return report(out, await client.request<ServiceChangeAnswer>('POST', servicePath(name, 'rollback'), { ifMatch }));
  },
};
