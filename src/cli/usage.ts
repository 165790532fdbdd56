// The usage texts: the whole command set (operator commands, serve and demo with their settings,
// exit codes) and the short reminder shown after a usage error. Text only.

import { SETTINGS } from '../config/config.js';
import type { Command } from './commands/command.js';
import { COMMANDS } from './commands/registry.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:9000';

const SYNOPSIS_WIDTH = Math.max(...COMMANDS.map((c) => c.synopsis.length));
const FLAG_WIDTH = Math.max(...SETTINGS.map((s) => s.flag.length + 2));
const ENV_WIDTH = Math.max(...SETTINGS.map((s) => s.env.length));

export const USAGE = `usage: sluice <command> [arguments] [options]

operator commands (they talk to a running sluice over its admin API):
${COMMANDS.map((c) => `  ${c.synopsis.padEnd(SYNOPSIS_WIDTH)}  ${c.summary}`).join('\n')}

  --server URL    the admin API (env SLUICE_SERVER; default ${DEFAULT_SERVER})
  --token TOKEN   sent as "Authorization: Bearer TOKEN" (env SLUICE_TOKEN, else SLUICE_ADMIN_TOKEN)
  --cacert FILE   PEM CA that an https:// server's certificate must chain to (env SLUICE_CACERT)
  --cert FILE     PEM client certificate for an admin API that asks for one (--admin-client-ca;
                  env SLUICE_CERT), with --key FILE, its private key (env SLUICE_KEY)
  --json          print the server's JSON instead of tables
  --if-match REV  change only if the state is still at revision REV (set-weights, promote, rollback,
                  delete, apply)
  --force         set-weights, promote, apply: change even though it aborts the service's active
                  rollout (apply: for every service in FILE); delete: also a service with an active
                  rollout (aborting it) or that proxies served in the last 5 minutes. Without it
                  such a change is refused (exit 1); rollback never needs it

  --dry-run       apply: the server previews FILE (as diff shows it); nothing changes
  --name NAME     apply, diff: the name of a single service body that has no "name" (diff: else
                  the file's name, e.g. service for demo/service.json)
  rollout start SERVICE -f FILE | --candidate VERSION --steps STEPS
                  STEPS: WEIGHT[:HOLD] or approve, comma-separated (e.g. 10:2m,50:5m,approve,100)
  rollout status [SERVICE] [--wait [--timeout D]]   rollout watch SERVICE [--timeout D]
                  --wait / watch follow the rollout to its end: exit 0 succeeded, 1 rolled back or
                  aborted, 2 error or --timeout passed; watch redraws on a terminal, else (or with
                  --json) prints one JSON event per line
  rollout pause|abort SERVICE [--reason TEXT]   rollout resume|approve|history SERVICE

  exit codes: 0 done (diff: no difference); 1 the server refused or the command failed (diff:
  differences found); 2 usage error, unreadable file, or sluice cannot be reached (diff: any error)

server commands:
  serve   run the control plane (xDS gRPC and the admin API)
  demo    run the blue/green demo: two model servers, sluice and a real Envoy on :8080

options (serve and demo; each also read from its environment variable):
${SETTINGS.map((s) => `  ${`--${s.flag}`.padEnd(FLAG_WIDTH)}  ${s.env.padEnd(ENV_WIDTH)}  ${s.help}`).join('\n')}
`;

/** One command's usage, or where to find every command's. */
export function shortUsage(command?: Command): string {
  const synopsis = command
    ? `sluice ${command.synopsis} [--server URL] [--token TOKEN] [--json]${command.options.includes('if-match') ? ' [--if-match REV]' : ''}${command.options.includes('force') ? ' [--force]' : ''}`
    : 'sluice <command> [arguments] [options]';
  return `usage: ${synopsis}\nrun \`sluice help\` for every command and option\n`;
}
