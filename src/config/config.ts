// sluice's configuration: the schema with defaults, and loading it from command-line flags and
// SLUICE_* environment variables (flags win). Starts nothing and opens nothing.

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';

export interface SluiceConfig {
  xdsHost: string;
  xdsPort: number;
  adminHost: string;
  adminPort: number;
  /** SQLite file holding the desired state, its revisions and the audit log. */
  statePath: string;
  /** Port of the `default` listener created on first start. */
  listenerPort: number;
  logLevel: string;
}

export const DEFAULT_CONFIG: SluiceConfig = {
  xdsHost: '0.0.0.0',
  xdsPort: 18000,
  adminHost: '127.0.0.1',
  adminPort: 9000,
  statePath: '.sluice/sluice.db',
  listenerPort: 8080,
  logLevel: 'info',
};

interface Setting {
  key: keyof SluiceConfig;
  flag: string;
  env: string;
  kind: 'port' | 'string';
  help: string;
}

export const SETTINGS: readonly Setting[] = [
  { key: 'xdsHost', flag: 'xds-host', env: 'SLUICE_XDS_HOST', kind: 'string', help: 'address the xDS gRPC server binds' },
  { key: 'xdsPort', flag: 'xds-port', env: 'SLUICE_XDS_PORT', kind: 'port', help: 'xDS gRPC port' },
  { key: 'adminHost', flag: 'admin-host', env: 'SLUICE_ADMIN_HOST', kind: 'string', help: 'address the admin API binds (loopback only for now)' },
  { key: 'adminPort', flag: 'admin-port', env: 'SLUICE_ADMIN_PORT', kind: 'port', help: 'admin HTTP port' },
  { key: 'statePath', flag: 'state', env: 'SLUICE_STATE', kind: 'string', help: 'SQLite state file' },
  { key: 'listenerPort', flag: 'listener-port', env: 'SLUICE_LISTENER_PORT', kind: 'port', help: 'port of the default listener on first start' },
  { key: 'logLevel', flag: 'log-level', env: 'SLUICE_LOG_LEVEL', kind: 'string', help: 'trace, debug, info, warn or error' },
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function convert(setting: Setting, raw: string, source: string): string | number {
  if (setting.kind === 'string') {
    if (raw === '') throw new ConfigError(`${source} must not be empty`);
    return raw;
  }
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 0 || port > 65535) throw new ConfigError(`${source} must be a port number (0-65535), got "${raw}"`);
  return port;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Builds the configuration from flags (e.g. `--xds-port 18000`) over environment variables over defaults. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): SluiceConfig {
  const options = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const config: Record<string, string | number> = { ...DEFAULT_CONFIG };
  for (const setting of SETTINGS) {
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined) config[setting.key] = convert(setting, fromEnv, setting.env);
    const fromFlag = values[setting.flag];
    if (typeof fromFlag === 'string') config[setting.key] = convert(setting, fromFlag, `--${setting.flag}`);
  }
  const result = config as unknown as SluiceConfig;
  if (!isLoopback(result.adminHost)) {
    throw new ConfigError(
      `refusing to expose the admin API on ${result.adminHost}: it has no authentication yet, so it only binds a loopback address (127.0.0.1, ::1)`,
    );
  }
  return result;
}
