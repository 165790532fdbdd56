// `sluice delete SERVICE [--force]`: one DELETE of the service (with --if-match when given;
// --force sent as ?force=true), answered by what it did: a rollout it aborted, the recent traffic
// it cut off, the new revision. The server decides what needs confirming; this only asks.

import type { ServiceDeletionAnswer } from '../../api/desired-state.js';
import { servedText } from '../../api/traffic-wording.js';
import { EXIT_OK, usageError } from '../cli-error.js';
import type { Command, CommandContext } from './command.js';
import { abortedRolloutText, withForceHint } from './guardrails.js';

export const deleteCommand: Command = {
  name: 'delete',
  synopsis: 'delete SERVICE',
  summary: 'remove a service (refused without --force while it has a rollout or recent traffic)',
  options: ['if-match', 'force'],
  async run({ args, ifMatch, force, client, out }: CommandContext) {
    const [name] = args;
    if (name === undefined || args.length > 1) throw usageError('delete needs exactly one service');
    const path = `/v1/services/${encodeURIComponent(name)}${force === true ? '?force=true' : ''}`;
    const answer = await withForceHint(client.request<ServiceDeletionAnswer>('DELETE', path, { ifMatch }));
    if (out.json) {
      out.printJson(answer);
      return EXIT_OK;
    }
    if (answer.abortedRollout !== undefined) out.line(`${answer.name}: ${abortedRolloutText(answer.abortedRollout)}`);
    if (answer.recentTraffic !== undefined) out.line(`${answer.name}: it ${servedText(answer.recentTraffic)}; those requests now get 404`);
    out.line(`${answer.name}: deleted, revision ${answer.revision}`);
    return EXIT_OK;
  },
};
