// Reads an operator command line in two steps: which command with its positional arguments,
// then the options it takes (flags over SLUICE_SERVER / SLUICE_TOKEN over defaults). Every
// mistake is a usage error (exit 2); nothing is sent anywhere from here.

import { parseArgs } from 'node:util';
import { usageError } from './cli-error.js';
import type { Command } from './commands/command.js';
import { COMMANDS } from './commands/registry.js';
import { DEFAULT_SERVER } from './usage.js';

/** The first step: which command (undefined only for `sluice help`), its arguments, the raw options. */
export interface CommandLine {
  command?: Command;
  help: boolean;
  args: string[];
  values: { server?: string; token?: string; json?: boolean; 'if-match'?: string; file?: string; force?: boolean };
}

/** The second step, once the command is known: the options it takes, checked. */
export interface CommandOptions {
  json: boolean;
  file?: string;
  ifMatch?: number;
  /** `--force`: make the change even though it aborts the service's active rollout (delete: or cuts off its recent traffic). */
  force: boolean;
  /** The admin API's base URL, without a trailing slash. */
  server: string;
  token?: string;
}

const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  'if-match': { type: 'string' },
  force: { type: 'boolean' },
  file: { type: 'string', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const;

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command !== undefined) return command;
  if (name === 'serve' || name === 'demo') throw usageError(`"${name}" comes first: sluice ${name} [options]`);
  throw usageError(`unknown command "${name}"`);
}

function serverUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`--server must be a URL such as ${DEFAULT_SERVER}, not "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--server must be an http:// or https:// URL, not "${value}"`);
  return value.replace(/\/+$/, '');
}

export function readCommandLine(argv: string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const help = values.help === true || positionals[0] === 'help';
  const [name, ...args] = positionals[0] === 'help' ? positionals.slice(1) : positionals;
  if (name === undefined && !help) throw usageError('no command given');
  return { ...(name === undefined ? {} : { command: findCommand(name) }), help, args, values };
}

export function commandOptions(command: Command, values: CommandLine['values'], env: Record<string, string | undefined>): CommandOptions {
  if (values.file !== undefined && !command.options.includes('file')) throw usageError(`${command.name} takes no -f FILE`);
  const ifMatch = values['if-match'];
  if (ifMatch !== undefined && !command.options.includes('if-match')) throw usageError(`${command.name} takes no --if-match`);
  if (ifMatch !== undefined && !/^[1-9]\d{0,14}$/.test(ifMatch)) throw usageError(`--if-match must be a revision number, not "${ifMatch}"`);
  if (values.force === true && !command.options.includes('force')) throw usageError(`${command.name} takes no --force`);
  // The server's own variable works too, so one exported token serves both.
  const token = values.token ?? env['SLUICE_TOKEN'] ?? env['SLUICE_ADMIN_TOKEN'];
  return {
    json: values.json === true,
    force: values.force === true,
    ...(values.file !== undefined ? { file: values.file } : {}),
    ...(ifMatch !== undefined ? { ifMatch: Number(ifMatch) } : {}),
    server: serverUrl(values.server ?? env['SLUICE_SERVER'] ?? DEFAULT_SERVER),
    ...(token ? { token } : {}),
  };
}
