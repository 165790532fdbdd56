// sluice's configuration: every setting with its default, loaded from command-line flags over
// SLUICE_* environment variables over an optional JSON or YAML file (`--config`) over defaults.
// Reads the config and token files; starts and opens nothing else. Refuses an admin API that is
// reachable beyond loopback without a token.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { MAX_NOTIFY_URLS, webhookUrlProblem } from '../model/rollout.js';

export interface SluiceConfig {
  xdsHost: string;
  xdsPort: number;
  adminHost: string;
  adminPort: number;
  /** SQLite file holding the desired state, its revisions and the audit log. */
  statePath: string;
  /** A `postgres://` URL: replicas share the state there instead of in the SQLite file. */
  store?: string;
  /** Port of the `default` listener created on first start. */
  listenerPort: number;
  logLevel: string;
  /** Bearer token the admin API requires for changes; absent, the admin API is open (and loopback only). */
  adminToken?: string;
  /** Reads need the token too (health, readiness and the API description stay open). */
  adminAuthReads: boolean;
  /** Changes accepted per second from one client address. */
  adminRateLimit: number;
  /** With a shared store: how long the rollout leader's lease lasts, in milliseconds (takeover time). */
  leaderLeaseMs: number;
  /** How many past revisions keep their full state (to be restored); older ones keep only their audit entry. */
  revisionRetention: number;
  /** Send an empty state even to proxies that connect holding configuration (which it deletes). */
  allowEmpty: boolean;
  /** Webhooks told of the phase changes of every rollout whose body names none (`notify`). */
  rolloutWebhooks: string[];
  /** xDS and load reporting streams open at once, over every client. */
  xdsMaxStreams: number;
  /** xDS and load reporting streams open at once from one client address. */
  xdsMaxStreamsPerPeer: number;
  /** The longest node.id and node.cluster accepted, in bytes. */
  xdsMaxNodeBytes: number;
  /** Resource names one xDS request (or clusters one load report) may carry. */
  xdsMaxResourceNames: number;
  /** The largest xDS or load reporting request accepted, in KiB. */
  xdsMaxRequestKib: number;
  /** Names the admin API answers under besides loopback and its bind address (the Host header clients send). */
  adminHostNames: string[];
  /** PEM certificate chain file: with `adminTlsKey`, the admin API speaks HTTPS. */
  adminTlsCert?: string;
  /** PEM private key file of `adminTlsCert`. */
  adminTlsKey?: string;
  /** PEM CA file: admin clients must present a certificate it signed. */
  adminClientCa?: string;
  // xDS over TLS: certificate and key (PEM files, re-read when they change), the CA client
  // certificates must chain to, and what each verified identity may claim.
  xdsTlsCert?: string;
  xdsTlsKey?: string;
  xdsClientCa?: string;
  xdsIdentityPolicy?: string;
}

/**
 * `sluice demo`'s defaults: its Envoy runs on this machine and reaches xDS over loopback, so the
 * demo does not serve plaintext xDS to the network (a given --xds-host still wins).
 */
export function demoDefaults(defaults: SluiceConfig): SluiceConfig {
  return { ...defaults, xdsHost: '127.0.0.1' };
}

export const DEFAULT_CONFIG: SluiceConfig = {
  xdsHost: '0.0.0.0',
  xdsPort: 18000,
  adminHost: '127.0.0.1',
  adminPort: 9000,
  statePath: '.sluice/sluice.db',
  listenerPort: 8080,
  logLevel: 'info',
  adminAuthReads: false,
  adminRateLimit: 60,
  leaderLeaseMs: 10_000,
  revisionRetention: 10_000,
  allowEmpty: false,
  rolloutWebhooks: [],
  xdsMaxStreams: 20_000,
  xdsMaxStreamsPerPeer: 1_000,
  xdsMaxNodeBytes: 512,
  xdsMaxResourceNames: 20_000,
  xdsMaxRequestKib: 4096,
  adminHostNames: [],
};

type Kind = 'port' | 'string' | 'boolean' | 'count' | 'path' | 'token' | 'urls' | 'hosts';
type Value = string | number | boolean | string[];

interface Setting {
  /** What the setting sets (a config field, or the config and token files). */
  key: keyof SluiceConfig | 'config' | 'adminTokenFile';
  flag: string;
  env: string;
  kind: Kind;
  help: string;
  /** Its config file key when not the flag in camelCase. */
  fileKey?: string;
}

export const SETTINGS: readonly Setting[] = [
  { key: 'config', flag: 'config', env: 'SLUICE_CONFIG', kind: 'path', help: 'JSON or YAML file with any other setting, keys in camelCase' },
  { key: 'xdsHost', flag: 'xds-host', env: 'SLUICE_XDS_HOST', kind: 'string', help: 'address the xDS gRPC server binds' },
  { key: 'xdsPort', flag: 'xds-port', env: 'SLUICE_XDS_PORT', kind: 'port', help: 'xDS gRPC port' },
  { key: 'adminHost', flag: 'admin-host', env: 'SLUICE_ADMIN_HOST', kind: 'string', help: 'address the admin API binds (beyond loopback only with a token)' },
  { key: 'adminPort', flag: 'admin-port', env: 'SLUICE_ADMIN_PORT', kind: 'port', help: 'admin HTTP port' },
  { key: 'adminToken', flag: 'admin-token', env: 'SLUICE_ADMIN_TOKEN', kind: 'token', help: 'bearer token the admin API requires for changes' },
  { key: 'adminTokenFile', flag: 'admin-token-file', env: 'SLUICE_ADMIN_TOKEN_FILE', kind: 'path', help: 'file holding the admin token (trimmed)' },
  { key: 'adminAuthReads', flag: 'admin-auth-reads', env: 'SLUICE_ADMIN_AUTH_READS', kind: 'boolean', help: 'reads need the token too' },
  { key: 'adminRateLimit', flag: 'admin-rate-limit', env: 'SLUICE_ADMIN_RATE_LIMIT', kind: 'count', help: 'changes per second accepted from one client' },
  { key: 'leaderLeaseMs', flag: 'leader-lease-ms', env: 'SLUICE_LEADER_LEASE_MS', kind: 'count', help: 'with --store: the rollout leader lease in milliseconds' },
  { key: 'statePath', flag: 'state', env: 'SLUICE_STATE', kind: 'string', help: 'SQLite state file' },
  { key: 'store', flag: 'store', env: 'SLUICE_STORE', kind: 'string', help: 'postgres:// URL of a state store shared by replicas (instead of --state)' },
  { key: 'revisionRetention', flag: 'revision-retention', env: 'SLUICE_REVISION_RETENTION', kind: 'count', help: 'past revisions whose full state is kept for restores (audit entries are always kept)' },
  { key: 'listenerPort', flag: 'listener-port', env: 'SLUICE_LISTENER_PORT', kind: 'port', help: 'port of the default listener on first start' },
  { key: 'allowEmpty', flag: 'allow-empty', env: 'SLUICE_ALLOW_EMPTY', kind: 'boolean', help: 'send a state with no service even to proxies that connect holding configuration (it deletes their listeners and clusters)' },
  {
    key: 'rolloutWebhooks',
    flag: 'rollout-webhook',
    env: 'SLUICE_ROLLOUT_WEBHOOKS',
    kind: 'urls',
    fileKey: 'rolloutWebhooks',
    help: 'http(s) URL told of every phase change of a rollout that names no webhooks (repeatable or comma-separated)',
  },
  { key: 'xdsMaxStreams', flag: 'xds-max-streams', env: 'SLUICE_XDS_MAX_STREAMS', kind: 'count', help: 'xDS and load reporting streams open at once, over every client (more are refused: RESOURCE_EXHAUSTED)' },
  { key: 'xdsMaxStreamsPerPeer', flag: 'xds-max-streams-per-peer', env: 'SLUICE_XDS_MAX_STREAMS_PER_PEER', kind: 'count', help: 'xDS and load reporting streams open at once from one client address' },
  { key: 'xdsMaxNodeBytes', flag: 'xds-max-node-bytes', env: 'SLUICE_XDS_MAX_NODE_BYTES', kind: 'count', help: 'longest node.id and node.cluster accepted, in bytes (a longer one ends the stream: INVALID_ARGUMENT)' },
  { key: 'xdsMaxResourceNames', flag: 'xds-max-resource-names', env: 'SLUICE_XDS_MAX_RESOURCE_NAMES', kind: 'count', help: 'resource names one xDS request, or clusters one load report, may carry' },
  { key: 'xdsMaxRequestKib', flag: 'xds-max-request-kib', env: 'SLUICE_XDS_MAX_REQUEST_KIB', kind: 'count', help: 'largest xDS or load reporting request accepted, in KiB' },
  {
    key: 'adminHostNames',
    flag: 'admin-host-name',
    env: 'SLUICE_ADMIN_HOST_NAMES',
    kind: 'hosts',
    fileKey: 'adminHostNames',
    help: 'another host name or address clients reach the admin API by (loopback names and the bind address always work; repeatable or comma-separated)',
  },
  { key: 'adminTlsCert', flag: 'admin-tls-cert', env: 'SLUICE_ADMIN_TLS_CERT', kind: 'path', help: 'PEM certificate (chain) file: the admin API speaks HTTPS (with --admin-tls-key)' },
  { key: 'adminTlsKey', flag: 'admin-tls-key', env: 'SLUICE_ADMIN_TLS_KEY', kind: 'path', help: 'PEM private key file of --admin-tls-cert' },
  { key: 'adminClientCa', flag: 'admin-client-ca', env: 'SLUICE_ADMIN_CLIENT_CA', kind: 'path', help: 'PEM CA file: admin clients must present a certificate it signed (needs --admin-tls-cert)' },
  { key: 'xdsTlsCert', flag: 'xds-tls-cert', env: 'SLUICE_XDS_TLS_CERT', kind: 'path', help: 'PEM certificate (chain) the xDS port serves TLS with (re-read when the file changes)' },
  { key: 'xdsTlsKey', flag: 'xds-tls-key', env: 'SLUICE_XDS_TLS_KEY', kind: 'path', help: 'PEM private key of --xds-tls-cert' },
  { key: 'xdsClientCa', flag: 'xds-client-ca', env: 'SLUICE_XDS_CLIENT_CA', kind: 'path', help: 'PEM CA every xDS client certificate must chain to (clients without one are refused)' },
  {
    key: 'xdsIdentityPolicy',
    flag: 'xds-identity-policy',
    env: 'SLUICE_XDS_IDENTITY_POLICY',
    kind: 'path',
    help: 'JSON or YAML file: which node ids and node clusters each client certificate identity may claim; re-read when it changes (new streams)',
  },
  { key: 'logLevel', flag: 'log-level', env: 'SLUICE_LOG_LEVEL', kind: 'string', help: 'trace, debug, info, warn or error' },
];

const MAX_RATE_LIMIT = 1_000_000;
const MAX_HOST_NAMES = 32;
const HOST_NAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Settings whose flag may be repeated and whose text is a comma-separated list. */
function isList(kind: Kind): boolean {
  return kind === 'urls' || kind === 'hosts';
}

/** A setting's key in a config file: its flag in camelCase (`--admin-port` → `adminPort`). */
export function fileKey(setting: Setting): string {
  return setting.fileKey ?? setting.flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One source's settings by key, each with where it came from (for messages). */
type Layer = Map<Setting['key'], { value: Value; source: string }>;

/** A flag or environment variable's text as the setting's type. */
function fromText(setting: Setting, raw: string, source: string): Value {
  switch (setting.kind) {
    case 'port':
    case 'count': {
      const number = /^\d{1,7}$/.test(raw) ? Number(raw) : Number.NaN;
      return checkNumber(setting, number, raw, source);
    }
    case 'boolean':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new ConfigError(`${source} must be "true" or "false", got "${raw}"`);
    case 'urls':
      return checkUrls(raw.split(','), source);
    case 'hosts':
      return checkHostNames(raw.split(','), source);
    default:
      return checkText(setting, raw, source);
  }
}

/** A config file's value as the setting's type: JSON numbers for numbers, booleans for booleans. */
function fromFile(setting: Setting, raw: unknown, source: string): Value {
  switch (setting.kind) {
    case 'port':
    case 'count':
      if (typeof raw !== 'number') throw new ConfigError(`${source} must be a number`);
      return checkNumber(setting, raw, String(raw), source);
    case 'boolean':
      if (typeof raw !== 'boolean') throw new ConfigError(`${source} must be true or false`);
      return raw;
    case 'urls':
      if (!Array.isArray(raw) || raw.some((url) => typeof url !== 'string')) throw new ConfigError(`${source} must be a list of URLs`);
      return checkUrls(raw as string[], source);
    case 'hosts':
      if (!Array.isArray(raw) || raw.some((name) => typeof name !== 'string')) throw new ConfigError(`${source} must be a list of host names`);
      return checkHostNames(raw as string[], source);
    default:
      if (typeof raw !== 'string') throw new ConfigError(`${source} must be a string`);
      return checkText(setting, raw, source);
  }
}

function checkNumber(setting: Setting, number: number, raw: string, source: string): number {
  if (setting.kind === 'port' && !(Number.isInteger(number) && number >= 0 && number <= 65535)) {
    throw new ConfigError(`${source} must be a port number (0-65535), got "${raw}"`);
  }
  if (setting.kind === 'count' && !(Number.isInteger(number) && number >= 1 && number <= MAX_RATE_LIMIT)) {
    throw new ConfigError(`${source} must be a whole number from 1 to ${MAX_RATE_LIMIT}, got "${raw}"`);
  }
  return number;
}

/** Webhook URLs: http(s), at most MAX_NOTIFY_URLS; a message names the entry, never the URL (its path may be a secret). */
function checkUrls(raw: readonly string[], source: string): string[] {
  const urls = raw.map((url) => url.trim()).filter((url) => url !== '');
  if (urls.length === 0) throw new ConfigError(`${source} must name at least one URL`);
  if (urls.length > MAX_NOTIFY_URLS) throw new ConfigError(`${source} names ${urls.length} URLs; at most ${MAX_NOTIFY_URLS}`);
  urls.forEach((url, i) => {
    const problem = webhookUrlProblem(url);
    if (problem !== undefined) throw new ConfigError(`${source}: URL ${i + 1} ${problem}`);
  });
  return urls;
}

/** Host names or IP addresses (IPv6 with or without brackets), lower-cased, at most MAX_HOST_NAMES. */
function checkHostNames(raw: readonly string[], source: string): string[] {
  const names = raw.map((name) => name.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')).filter((name) => name !== '');
  if (names.length === 0) throw new ConfigError(`${source} must name at least one host`);
  if (names.length > MAX_HOST_NAMES) throw new ConfigError(`${source} names ${names.length} hosts; at most ${MAX_HOST_NAMES}`);
  for (const name of names) {
    if (isIP(name) === 0 && !HOST_NAME_RE.test(name)) throw new ConfigError(`${source}: "${name}" is not a host name or IP address`);
  }
  return names;
}

function checkText(setting: Setting, raw: string, source: string): string {
  if (raw.trim() === '') throw new ConfigError(`${source} must not be empty`);
  // The URL may hold a password: name the setting, never the value.
  if (setting.key === 'store' && !/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(`${source} must be a postgres:// URL`);
  // Never echo a token, not even a malformed one.
  if (setting.kind === 'token' && /\s/.test(raw)) throw new ConfigError(`${source} must not contain whitespace`);
  return raw;
}

function flagLayer(argv: string[]): Layer {
  const options = Object.fromEntries(
    SETTINGS.map((s) => [s.flag, { type: s.kind === 'boolean' ? ('boolean' as const) : ('string' as const), multiple: isList(s.kind) }]),
  );
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const layer: Layer = new Map();
  for (const setting of SETTINGS) {
    const raw = values[setting.flag];
    const source = `--${setting.flag}`;
    if (typeof raw === 'boolean') layer.set(setting.key, { value: raw, source });
    if (typeof raw === 'string') layer.set(setting.key, { value: fromText(setting, raw, source), source });
    if (Array.isArray(raw)) layer.set(setting.key, { value: fromText(setting, raw.map(String).join(','), source), source });
  }
  return layer;
}

function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = new Map();
  for (const setting of SETTINGS) {
    const raw = env[setting.env];
    if (raw !== undefined) layer.set(setting.key, { value: fromText(setting, raw, setting.env), source: setting.env });
  }
  return layer;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

/** A `.json` file is read as JSON, anything else as YAML; every key must be a known setting. */
function fileLayer(path: string): Layer {
  const text = readText(path, 'config file');
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return new Map();
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${path} must hold an object of settings, such as {"adminPort": 9000}`);
  }
  const layer: Layer = new Map();
  for (const [key, raw] of Object.entries(parsed)) {
    const setting = SETTINGS.find((s) => fileKey(s) === key);
    const source = `${path}: ${key}`;
    if (setting === undefined) {
      const known = SETTINGS.filter((s) => s.key !== 'config').map(fileKey);
      throw new ConfigError(`${path}: unknown setting "${key}" (known: ${known.join(', ')})`);
    }
    if (setting.key === 'config') throw new ConfigError(`${source}: a config file cannot name another one`);
    layer.set(setting.key, { value: fromFile(setting, raw, source), source });
  }
  return layer;
}

/** The token from the first layer that gives one, read from its file when given as a file. */
function adminToken(layers: Layer[]): string | undefined {
  for (const layer of layers) {
    const token = layer.get('adminToken');
    const file = layer.get('adminTokenFile');
    if (token !== undefined && file !== undefined) {
      throw new ConfigError(`give the admin token once: ${token.source} and ${file.source} both set it`);
    }
    if (token !== undefined) return String(token.value);
    if (file !== undefined) {
      const path = String(file.value);
      const contents = readText(path, 'admin token file').trim();
      if (contents === '') throw new ConfigError(`the admin token file ${path} (${file.source}) is empty`);
      if (/\s/.test(contents)) throw new ConfigError(`the admin token in ${path} (${file.source}) must not contain whitespace`);
      return contents;
    }
  }
  return undefined;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Where the state lives, for logs and messages: the SQLite path, or the store's URL without its password. */
export function stateLocation(config: Pick<SluiceConfig, 'store' | 'statePath'>): string {
  if (config.store === undefined) return config.statePath;
  try {
    const url = new URL(config.store);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** The admin TLS settings go together: a certificate with its key, a client CA only with both. */
function checkAdminTls(config: SluiceConfig): void {
  if ((config.adminTlsCert === undefined) !== (config.adminTlsKey === undefined)) {
    throw new ConfigError('HTTPS for the admin API needs both --admin-tls-cert and --admin-tls-key (SLUICE_ADMIN_TLS_CERT, SLUICE_ADMIN_TLS_KEY)');
  }
  if (config.adminClientCa !== undefined && config.adminTlsCert === undefined) {
    throw new ConfigError('--admin-client-ca (SLUICE_ADMIN_CLIENT_CA) needs HTTPS: give --admin-tls-cert and --admin-tls-key too');
  }
}

/**
 * Builds the configuration: flags (e.g. `--xds-port 18000`) over environment over config file over
 * `defaults` (`sluice demo` passes its own).
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv, defaults: SluiceConfig = DEFAULT_CONFIG): SluiceConfig {
  const flags = flagLayer(argv);
  const environment = envLayer(env);
  const configFile = flags.get('config') ?? environment.get('config');
  const layers = [flags, environment, configFile === undefined ? new Map() : fileLayer(String(configFile.value))];
  const config: Record<string, Value | undefined> = { ...defaults };
  // Every setting, not only those with a default: a setting without one (the store) is as real.
  for (const { key } of SETTINGS) {
    if (key === 'config' || key === 'adminTokenFile' || key === 'adminToken') continue;
    const given = layers.find((layer) => layer.has(key))?.get(key);
    if (given !== undefined) config[key] = given.value;
  }
  const token = adminToken(layers);
  const result = (token === undefined ? config : { ...config, adminToken: token }) as unknown as SluiceConfig;
  if (token === undefined && result.adminAuthReads) {
    throw new ConfigError('--admin-auth-reads needs an admin token (--admin-token-file, SLUICE_ADMIN_TOKEN or --admin-token)');
  }
  checkAdminTls(result);
  if (token === undefined && !isLoopback(result.adminHost)) {
    throw new ConfigError(
      `refusing to expose the admin API on ${result.adminHost} without a token: anyone who can reach it could change ` +
        'what every Envoy serves. Give a token (--admin-token-file, SLUICE_ADMIN_TOKEN or --admin-token) or bind a ' +
        'loopback address (127.0.0.1, ::1)',
    );
  }
  checkXdsTls(result);
  return result;
}

/** The xDS TLS settings go together: a certificate with its key; a client CA over TLS; a policy over client certificates. */
function checkXdsTls(config: SluiceConfig): void {
  if ((config.xdsTlsCert === undefined) !== (config.xdsTlsKey === undefined)) {
    throw new ConfigError('--xds-tls-cert and --xds-tls-key go together: give both (or neither, for plaintext xDS)');
  }
  if (config.xdsClientCa !== undefined && config.xdsTlsCert === undefined) {
    throw new ConfigError('--xds-client-ca needs --xds-tls-cert and --xds-tls-key: client certificates are checked over TLS');
  }
  if (config.xdsIdentityPolicy !== undefined && config.xdsClientCa === undefined) {
    throw new ConfigError('--xds-identity-policy needs --xds-client-ca: identities come from verified client certificates');
  }
}
