// `sluice diff -f FILE`: what applying FILE would change in Envoy's resources. Reads the current
// state (GET /v1/services and /v1/listeners at one revision), applies the file locally with the
// state's own change functions, translates both and prints the difference. Never writes.

import { SluiceError } from '../../errors.js';
import { listenerBodySchema, serviceBodySchema } from '../../model/schema.js';
import type { DesiredState, Listener, Service } from '../../model/types.js';
import { applyChange, type Change } from '../../state/changes.js';
import { translate } from '../../translate/translate.js';
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, RejectedError, usageError, type ExitCode } from '../cli-error.js';
import type { AdminClient } from '../http-client.js';
import type { Output, Paint } from '../output.js';
import { diffResources, type ResourceChange } from '../resource-diff.js';
import { readResourceFile, type FileResource } from '../resource-file.js';
import { checkShape } from '../shape-check.js';
import type { Command, CommandContext } from './command.js';

const READ_ATTEMPTS = 3;
const MAX_VALUE_LENGTH = 100;

function byName<T extends { name: string }>(items: T[]): Record<string, T> {
  return Object.fromEntries(items.map((item) => [item.name, item]));
}

/** The desired state as the server has it, services and listeners read at the same revision. */
async function currentState(client: AdminClient): Promise<DesiredState> {
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const [services, listeners] = await Promise.all([
      client.request<{ revision: number; services: Service[] }>('GET', '/v1/services'),
      client.request<{ revision: number; listeners: Listener[] }>('GET', '/v1/listeners'),
    ]);
    if (services.revision === listeners.revision) {
      return { revision: services.revision, services: byName(services.services), listeners: byName(listeners.listeners) };
    }
  }
  throw new CliError('the state kept changing while it was read; try again', EXIT_USAGE);
}

function changeOf(resource: FileResource): Change {
  return resource.kind === 'service'
    ? { kind: 'putService', name: resource.name, body: resource.body }
    : { kind: 'putListener', name: resource.name, body: resource.body };
}

/** `state` after the file's PUTs, refused with the same codes and paths as the server would. */
function applyFile(state: DesiredState, resources: FileResource[]): DesiredState {
  let next = state;
  for (const resource of resources) {
    try {
      checkShape(resource.body, resource.kind === 'service' ? serviceBodySchema : listenerBodySchema);
      next = applyChange(next, changeOf(resource));
    } catch (error) {
      if (!(error instanceof SluiceError)) throw error;
      const body = { error: error.toJSON() };
      throw new RejectedError(body.error, body, EXIT_USAGE).within(`${resource.kind} ${resource.name}`, resource.pointer);
    }
  }
  return next;
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
    ...(change.paths ?? []).map((p) => `    ${p.path}: ${valueText(p.old)} → ${valueText(p.new)}`),
  ];
}

function summary(changes: ResourceChange[]): string {
  const count = (kind: ResourceChange['change']) => changes.filter((c) => c.change === kind).length;
  const differ = changes.length === 1 ? '1 resource differs' : `${changes.length} resources differ`;
  return `${differ}: ${count('changed')} changed, ${count('added')} added, ${count('removed')} removed`;
}

async function run({ args, file, client, out }: CommandContext): Promise<ExitCode> {
  if (file === undefined) throw usageError('diff needs -f FILE');
  if (args.length > 0) throw usageError('diff takes no arguments besides -f FILE');
  const resources = await readResourceFile(file);
  const before = await currentState(client);
  const changes = diffResources(translate(before), translate(applyFile(before, resources)));
  if (out.json) {
    out.printJson({ revision: before.revision, changes });
  } else if (changes.length === 0) {
    out.line(`no change to Envoy's resources (against revision ${before.revision})`);
  } else {
    out.lines([
      `against revision ${before.revision} at ${client.server}:`,
      ...changes.flatMap((change) => changeLines(change, out)),
      summary(changes),
      `apply with --if-match ${before.revision} to change exactly this`,
    ]);
  }
  return changes.length === 0 ? EXIT_OK : EXIT_FAILED;
}

export const diffCommand: Command = {
  name: 'diff',
  synopsis: 'diff -f FILE',
  summary: "what applying FILE would change in Envoy's resources (exit 0: nothing, 1: differences)",
  options: ['file'],
  failureExit: EXIT_USAGE,
  run,
};
