// `sluice diff -f FILE`: what applying FILE would change in Envoy's resources, as the server's
// dry run (`?dryRun=true`) answers it for each resource, all against one revision. A service that
// uses a listener the same file adds cannot be previewed before that listener exists: it is named
// as such, not guessed at. Never writes; validating and translating are the server's alone.

import { basename, extname } from 'node:path';
import type { DryRunAnswer, ResourceChange } from '../../api/dry-run.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, RejectedError, usageError, type ExitCode } from '../cli-error.js';
import type { AdminClient } from '../http-client.js';
import type { Output, Paint } from '../output.js';
import { readResourceFile, resourcePath, type FileResource } from '../resource-file.js';
import type { Command, CommandContext } from './command.js';

const MAX_VALUE_LENGTH = 100;
const DEFAULT_GROUP = 'default';

interface Preview {
  revision: number;
  changes: ResourceChange[];
  /** Resources that could not be previewed, with why. */
  notPreviewed: { resource: string; reason: string }[];
}

/** The resource's PUT, as apply sends it (with --force's override), previewed. */
function dryRunPath(resource: FileResource, force: boolean | undefined): string {
  const path = resourcePath(resource, force);
  return `${path}${path.includes('?') ? '&' : '?'}dryRun=true`;
}

/** Each resource's dry run against the revision the first one saw; a refusal points at the resource in the file. */
async function preview(client: AdminClient, resources: FileResource[], force: boolean | undefined): Promise<Preview> {
  const result: Preview = { revision: 0, changes: [], notPreviewed: [] };
  const added = new Set<string>();
  let revision: number | undefined;
  for (const resource of resources) {
    const label = `${resource.kind} ${resource.name}`;
    const listener = resource.kind === 'service' ? resource.body.listener : undefined;
    if (listener !== undefined && added.has(listener)) {
      result.notPreviewed.push({ resource: label, reason: `it uses listener ${listener}, which this file adds: apply the listener first` });
      continue;
    }
    let answer: DryRunAnswer;
    try {
      answer = await client.request<DryRunAnswer>('PUT', dryRunPath(resource, force), { body: resource.body, ifMatch: revision });
    } catch (error) {
      if (!(error instanceof RejectedError)) throw error;
      throw new RejectedError(error.error, error.body, EXIT_USAGE).within(label, resource.pointer);
    }
    revision ??= answer.revision;
    result.revision = answer.revision;
    if (resource.kind === 'listener' && answer.changes.some((c) => c.kind === 'listener' && c.change === 'added')) added.add(resource.name);
    result.changes.push(...answer.changes);
  }
  return result;
}

function valueText(value: unknown): string {
  if (value === undefined) return '(none)';
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

function changeLines(change: ResourceChange, out: Output): string[] {
  const [mark, paint]: [string, Paint] =
    change.change === 'added' ? ['+', out.green] : change.change === 'removed' ? ['-', out.red] : ['~', out.yellow];
  return [
    paint(`${mark} ${change.kind} ${change.name}`),
    ...(change.paths ?? []).map((p) => `    ${p.label || '/'}${p.order ? ' (order)' : ''}: ${valueText(p.old)} → ${valueText(p.new)}`),
    ...(change.morePaths === undefined ? [] : [`    … and ${change.morePaths} more`]),
  ];
}

/** Envoy's default group's changes first, as they are; any other group's under its name. */
function groupedLines(changes: ResourceChange[], out: Output): string[] {
  const groups = [...new Set([DEFAULT_GROUP, ...changes.map((c) => c.group)])];
  return groups.flatMap((group) => {
    const lines = changes.filter((c) => c.group === group).flatMap((change) => changeLines(change, out));
    return group === DEFAULT_GROUP || lines.length === 0 ? lines : [`for node group ${group}:`, ...lines];
  });
}

function summary(changes: ResourceChange[]): string {
  const count = (kind: ResourceChange['change']) => changes.filter((c) => c.change === kind).length;
  const differ = changes.length === 1 ? '1 resource differs' : `${changes.length} resources differ`;
  return `${differ}: ${count('changed')} changed, ${count('added')} added, ${count('removed')} removed`;
}

/** Prints a preview as `diff` and `apply --dry-run` show it; exit 0 when nothing would change, else 1. */
export function printPreview({ revision, changes, notPreviewed }: Preview, client: AdminClient, out: Output): ExitCode {
  const skipped = notPreviewed.map(({ resource, reason }) => `${resource}: not previewed: ${reason}`);
  if (out.json) {
    out.printJson({ revision, changes, ...(notPreviewed.length === 0 ? {} : { notPreviewed }) });
  } else if (changes.length === 0) {
    out.lines([`no change to Envoy's resources (against revision ${revision})`, ...skipped]);
  } else {
    out.lines([
      `against revision ${revision} at ${client.server}:`,
      ...groupedLines(changes, out),
      summary(changes),
      ...skipped,
      // Nothing was ever committed at revision 0, so there is no revision to pin.
      ...(revision > 0 ? [`apply with --if-match ${revision} to change exactly this`] : []),
    ]);
  }
  return changes.length === 0 && notPreviewed.length === 0 ? EXIT_OK : EXIT_FAILED;
}

/** The file's resources previewed by the server; a single service body without a name takes `unnamed`. */
export async function previewFile(client: AdminClient, file: string, unnamed: string | undefined, force?: boolean): Promise<Preview> {
  return preview(client, await readResourceFile(file, unnamed), force);
}

async function run({ args, file, name, client, out }: CommandContext): Promise<ExitCode> {
  if (file === undefined) throw usageError('diff needs -f FILE');
  if (args.length > 0) throw usageError('diff takes no arguments besides -f FILE');
  return printPreview(await previewFile(client, file, name ?? basename(file, extname(file))), client, out);
}

export const diffCommand: Command = {
  name: 'diff',
  synopsis: 'diff -f FILE',
  summary: "what applying FILE would change in Envoy's resources, as the server previews it (exit 0: nothing, 1: differences)",
  options: ['file', 'name'],
  failureExit: EXIT_USAGE,
  run,
};
