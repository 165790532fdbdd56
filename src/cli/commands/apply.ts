// `sluice apply -f FILE`: one PUT per resource in the file, listeners first, each its own
// revision. Stops at the first rejection (what came before stays applied); with --if-match, each
// PUT after the first must land on the revision the previous one made; with --force, each service
// PUT is sent with ?override=rollout, as set-weights sends it; with --dry-run, the server previews
// the file (with --force too) as `diff` shows it and nothing changes. The server validates and guards.

import { EXIT_OK, RejectedError, usageError, type ExitCode } from '../cli-error.js';
import { readResourceFile, resourcePath, type FileResource } from '../resource-file.js';
import type { Command, CommandContext } from './command.js';
import { previewFile, printPreview } from './diff.js';
import type { AbortedRollout } from '../../api/desired-state.js';
import { abortedRolloutText, withForceHint } from './guardrails.js';

type Answer = { revision: number; abortedRollout?: AbortedRollout } & Record<string, unknown>;
type Applied = { resource: FileResource; answer: Answer }[];

/** A rejection pointed at the resource in the file, saying what was applied before it. */
function located(error: unknown, resource: FileResource, applied: Applied): unknown {
  if (!(error instanceof RejectedError)) return error;
  const rejected = error.within(`${resource.kind} ${resource.name}`, resource.pointer);
  if (applied.length > 0) rejected.message += ` (already applied: ${applied.map((a) => `${a.resource.kind} ${a.resource.name}`).join(', ')})`;
  return rejected;
}

/** The server's answers in the file's shape: one answer, or `{listeners: {NAME: answer}, services: …}`. */
function answersJson(applied: Applied): unknown {
  const [first] = applied;
  if (applied.length === 1 && first?.resource.pointer === '') return first.answer;
  const sections: Record<string, Record<string, Answer>> = {};
  for (const { resource, answer } of applied) (sections[`${resource.kind}s`] ??= {})[resource.name] = answer;
  return sections;
}

async function run({ args, file, ifMatch, force, dryRun, name, client, out }: CommandContext): Promise<ExitCode> {
  if (file === undefined) throw usageError('apply needs -f FILE');
  if (args.length > 0) throw usageError('apply takes no arguments besides -f FILE');
  if (dryRun) {
    printPreview(await previewFile(client, file, name, force), client, out);
    return EXIT_OK;
  }
  const applied: Applied = [];
  let expected = ifMatch;
  for (const resource of await readResourceFile(file, name)) {
    let answer: Answer;
    try {
      answer = await withForceHint(client.request<Answer>('PUT', resourcePath(resource, force), { body: resource.body, ifMatch: expected }));
    } catch (error) {
      throw located(error, resource, applied);
    }
    applied.push({ resource, answer });
    if (ifMatch !== undefined) expected = answer.revision;
    const aborted = answer.abortedRollout === undefined ? '' : `; ${abortedRolloutText(answer.abortedRollout)}`;
    if (!out.json) out.line(`${resource.kind} ${resource.name}: applied, revision ${answer.revision}${aborted}`);
  }
  if (out.json) out.printJson(answersJson(applied));
  return EXIT_OK;
}

export const applyCommand: Command = {
  name: 'apply',
  synopsis: 'apply -f FILE',
  summary: 'define or replace the services (and listeners) in FILE, YAML or JSON; --dry-run: show what would change, change nothing',
  options: ['file', 'if-match', 'force', 'dry-run', 'name'],
  run,
};
