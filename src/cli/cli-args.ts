// Reads an operator command line in two steps: which command with its positional arguments,
// then the options it takes (flags over SLUICE_SERVER / SLUICE_TOKEN / SLUICE_CACERT /
// SLUICE_CERT / SLUICE_KEY over defaults). Every
// mistake is a usage error (exit 2); nothing is sent anywhere from here.

import { parseArgs } from 'node:util';
import { parseDuration } from '../model/duration.js';
import { usageError } from './cli-error.js';
import type { Command } from './commands/command.js';
import { COMMANDS } from './commands/registry.js';
import { DEFAULT_SERVER } from './usage.js';

/** The first step: which command (undefined only for `sluice help`), its arguments, the raw options. */
export interface CommandLine {
  command?: Command;
  help: boolean;
  args: string[];
  values: {
    server?: string;
    token?: string;
    cacert?: string;
    cert?: string;
    key?: string;
    json?: boolean;
    'if-match'?: string;
    file?: string;
    force?: boolean;
    candidate?: string;
    steps?: string;
    reason?: string;
    wait?: boolean;
    timeout?: string;
    'dry-run'?: boolean;
    name?: string;
  };
}

/** The second step, once the command is known: the options it takes, checked. */
export interface CommandOptions {
  json: boolean;
  file?: string;
  ifMatch?: number;
  /** `--force`: make the change even though it aborts the service's active rollout (delete: or cuts off its recent traffic). */
  force: boolean;
  /** `rollout start`: `--candidate VERSION` and `--steps 10:2m,50:5m,approve,100`. */
  candidate?: string;
  steps?: string;
  /** `rollout pause|abort`: `--reason TEXT`, recorded in the timeline. */
  reason?: string;
  /** `rollout status --wait`: wait until the rollout has ended. */
  wait: boolean;
  /** `apply --dry-run`: show what the server would change, change nothing. */
  dryRun: boolean;
  /** `apply`/`diff --name NAME`: the name of a single service body that has none in the file. */
  name?: string;
  /** `--timeout 10m`: give up waiting (rollout status --wait, rollout watch) after this long. */
  timeoutMs?: number;
  /** The admin API's base URL, without a trailing slash. */
  server: string;
  token?: string;
  /** `--cacert FILE`: the PEM CA an https:// server's certificate must chain to. */
  caCert?: string;
  /** `--cert FILE` and `--key FILE`: the client certificate (PEM) an admin API with a client CA asks for, and its key. */
  clientCert?: { certFile: string; keyFile: string };
}

const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  'if-match': { type: 'string' },
  force: { type: 'boolean' },
  file: { type: 'string', short: 'f' },
  candidate: { type: 'string' },
  steps: { type: 'string' },
  reason: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  'dry-run': { type: 'boolean' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options only some commands take, by their flag. */
const COMMAND_OPTIONS = ['file', 'if-match', 'force', 'candidate', 'steps', 'reason', 'wait', 'timeout', 'dry-run', 'name'] as const;

function timeoutMs(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
  } catch {
    // Reported below, with the flag's name.
  }
  throw usageError(`--timeout must be a duration such as 10m or 90s, not "${value}"`);
}

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
  for (const option of COMMAND_OPTIONS) {
    const given = values[option];
    if (given === undefined || given === false || command.options.includes(option)) continue;
    throw usageError(`${command.name} takes no ${option === 'file' ? '-f FILE' : `--${option}`}`);
  }
  const ifMatch = values['if-match'];
  if (ifMatch !== undefined && !/^[1-9]\d{0,14}$/.test(ifMatch)) throw usageError(`--if-match must be a revision number, not "${ifMatch}"`);
  // The server's own variable works too, so one exported token serves both.
  const token = values.token ?? env['SLUICE_TOKEN'] ?? env['SLUICE_ADMIN_TOKEN'];
  const caCert = values.cacert ?? env['SLUICE_CACERT'];
  const certFile = values.cert ?? env['SLUICE_CERT'];
  const keyFile = values.key ?? env['SLUICE_KEY'];
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw usageError(certFile ? '--cert (SLUICE_CERT) needs its key: give --key FILE or SLUICE_KEY' : '--key (SLUICE_KEY) needs its certificate: give --cert FILE or SLUICE_CERT');
  }
  return {
    json: values.json === true,
    force: values.force === true,
    wait: values.wait === true,
    dryRun: values['dry-run'] === true,
    ...(values.file !== undefined ? { file: values.file } : {}),
    ...(values.candidate !== undefined ? { candidate: values.candidate } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.steps !== undefined ? { steps: values.steps } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values.timeout !== undefined ? { timeoutMs: timeoutMs(values.timeout) } : {}),
    ...(ifMatch !== undefined ? { ifMatch: Number(ifMatch) } : {}),
    server: serverUrl(values.server ?? env['SLUICE_SERVER'] ?? DEFAULT_SERVER),
    ...(token ? { token } : {}),
    ...(caCert ? { caCert } : {}),
    ...(certFile && keyFile ? { clientCert: { certFile, keyFile } } : {}),
  };
}
