// Loading the configuration: defaults, flags over environment over a JSON or YAML config file,
// typed values and unknown keys refused with the culprit named, the admin token from a flag, the
// environment or a file (trimmed, never echoed), the refusal to expose the admin API beyond
// loopback without a token, and the README's table listing every setting.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, SETTINGS, demoDefaults, fileKey, loadConfig, stateLocation } from '../../src/config/config.js';

const TOKEN = 'tok-3f9a1c77e2';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, contents: string): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('sources', () => {
  it('gives the defaults when nothing is set', () => {
    expect(loadConfig([], {})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ adminHost: '127.0.0.1', adminAuthReads: false, adminRateLimit: 60 });
    expect(DEFAULT_CONFIG.adminToken).toBeUndefined();
  });

  it('takes flags over environment over the config file over defaults', () => {
    const config = file('sluice.json', JSON.stringify({ xdsPort: 1001, adminPort: 1002, listenerPort: 1003, logLevel: 'debug' }));
    const env = { SLUICE_CONFIG: config, SLUICE_XDS_PORT: '2001', SLUICE_ADMIN_PORT: '2002' };
    expect(loadConfig(['--xds-port', '3001'], env)).toMatchObject({
      xdsPort: 3001,
      adminPort: 2002,
      listenerPort: 1003,
      logLevel: 'debug',
      statePath: DEFAULT_CONFIG.statePath,
    });
  });

  it('keeps a setting that has no default, the shared store, from every source', () => {
    const url = 'postgres://sluice:secret@db.internal:5432/sluice';
    expect(loadConfig(['--store', url], {}).store).toBe(url);
    expect(loadConfig([], { SLUICE_STORE: url }).store).toBe(url);
    expect(loadConfig([], { SLUICE_CONFIG: file('sluice.yaml', `store: ${url}\n`) }).store).toBe(url);
    expect(loadConfig([], {}).store).toBeUndefined();
  });

  it('names where the state lives without the store password', () => {
    expect(stateLocation({ statePath: 'x/sluice.db' })).toBe('x/sluice.db');
    expect(stateLocation({ statePath: 'x/sluice.db', store: 'postgres://sluice:secret@db:5432/s' })).toBe('postgres://sluice:***@db:5432/s');
  });

  it('reads YAML (any other extension) with the flags in camelCase as keys, including booleans and numbers', () => {
    const config = file(
      'sluice.yaml',
      ['adminHost: 0.0.0.0', `adminToken: ${TOKEN}`, 'adminAuthReads: true', 'adminRateLimit: 5', 'state: /var/lib/sluice.db', ''].join('\n'),
    );
    expect(loadConfig(['--config', config], {})).toMatchObject({
      adminHost: '0.0.0.0',
      adminToken: TOKEN,
      adminAuthReads: true,
      adminRateLimit: 5,
      statePath: '/var/lib/sluice.db',
    });
    expect(loadConfig(['--config', file('empty.yml', '')], {})).toEqual(DEFAULT_CONFIG);
  });

  it('refuses unknown keys, mistyped values, a file that is not an object and broken files, naming the file and the key', () => {
    expect(refusal(['--config', file('a.json', '{"adminPrt": 9000}')])).toMatch(/a\.json: unknown setting "adminPrt" \(known: xdsHost, .*adminPort/);
    expect(refusal(['--config', file('b.json', '{"statePath": "x.db"}')])).toMatch(/unknown setting "statePath"/);
    expect(refusal(['--config', file('c.json', '{"adminPort": "9000"}')])).toMatch(/c\.json: adminPort must be a number/);
    expect(refusal(['--config', file('d.json', '{"adminPort": 70000}')])).toMatch(/adminPort must be a port number/);
    expect(refusal(['--config', file('e.yaml', 'adminAuthReads: "yes"')])).toMatch(/adminAuthReads must be true or false/);
    expect(refusal(['--config', file('f.json', '{"config": "other.json"}')])).toMatch(/cannot name another one/);
    expect(refusal(['--config', file('g.json', '[1]')])).toMatch(/must hold an object of settings/);
    expect(refusal(['--config', file('h.json', '{"adminPort": 9000,')])).toMatch(/h\.json is not valid JSON/);
    expect(refusal(['--config', file('i.yaml', 'adminPort: [1')])).toMatch(/i\.yaml is not valid YAML/);
    expect(refusal(['--config', join(dir, 'missing.json')])).toMatch(/cannot read the config file .*missing\.json/);
  });

  it('refuses bad flag and environment values, naming them', () => {
    expect(refusal(['--admin-port', 'http'])).toMatch(/--admin-port must be a port number/);
    expect(refusal([], { SLUICE_XDS_PORT: '65536' })).toMatch(/SLUICE_XDS_PORT must be a port number/);
    expect(refusal(['--admin-rate-limit', '0'])).toMatch(/--admin-rate-limit must be a whole number from 1/);
    expect(refusal([], { SLUICE_ADMIN_AUTH_READS: 'yes', SLUICE_ADMIN_TOKEN: TOKEN })).toMatch(/SLUICE_ADMIN_AUTH_READS must be "true" or "false"/);
    expect(refusal(['--log-level', ''])).toMatch(/--log-level must not be empty/);
    expect(refusal(['--no-such-flag'])).toMatch(/no-such-flag/);
    expect(loadConfig(['--admin-rate-limit', '250'], {}).adminRateLimit).toBe(250);
  });

  it('keeps 10000 past revisions by default, or the count given by any source, and refuses none or a non-count', () => {
    expect(loadConfig([], {}).revisionRetention).toBe(10_000);
    expect(loadConfig(['--revision-retention', '5'], {}).revisionRetention).toBe(5);
    expect(loadConfig([], { SLUICE_REVISION_RETENTION: '6' }).revisionRetention).toBe(6);
    expect(loadConfig([], { SLUICE_CONFIG: file('retention.yaml', 'revisionRetention: 7\n') }).revisionRetention).toBe(7);
    expect(() => loadConfig(['--revision-retention', '0'], {})).toThrow(/--revision-retention must be a whole number from 1/);
    expect(() => loadConfig([], { SLUICE_REVISION_RETENTION: 'all' })).toThrow(ConfigError);
  });

  it('keeps empty states from proxies holding configuration unless allowEmpty is given, from any source', () => {
    expect(DEFAULT_CONFIG.allowEmpty).toBe(false);
    expect(loadConfig(['--allow-empty'], {}).allowEmpty).toBe(true);
    expect(loadConfig([], { SLUICE_ALLOW_EMPTY: 'true' }).allowEmpty).toBe(true);
    expect(loadConfig([], { SLUICE_ALLOW_EMPTY: 'false' }).allowEmpty).toBe(false);
    expect(loadConfig([], { SLUICE_CONFIG: file('sluice.yaml', 'allowEmpty: true\n') }).allowEmpty).toBe(true);
    expect(refusal([], { SLUICE_ALLOW_EMPTY: 'yes' })).toMatch(/SLUICE_ALLOW_EMPTY must be "true" or "false"/);
  });

  it('takes the rollout webhooks as a repeated or comma-separated flag, a comma-separated variable or a list key; refuses bad ones without echoing them', () => {
    const a = 'https://hooks.example/T1/secret';
    const b = 'http://127.0.0.1:9999/rollouts';
    expect(DEFAULT_CONFIG.rolloutWebhooks).toEqual([]);
    expect(loadConfig(['--rollout-webhook', a, '--rollout-webhook', b], {}).rolloutWebhooks).toEqual([a, b]);
    expect(loadConfig(['--rollout-webhook', `${a},${b}`], {}).rolloutWebhooks).toEqual([a, b]);
    expect(loadConfig([], { SLUICE_ROLLOUT_WEBHOOKS: ` ${a} , ${b} ` }).rolloutWebhooks).toEqual([a, b]);
    expect(loadConfig([], { SLUICE_CONFIG: file('hooks.yaml', `rolloutWebhooks: ["${a}", "${b}"]\n`) }).rolloutWebhooks).toEqual([a, b]);
    // A flag replaces the variable's list; lists from several sources do not add up.
    expect(loadConfig(['--rollout-webhook', b], { SLUICE_ROLLOUT_WEBHOOKS: a }).rolloutWebhooks).toEqual([b]);
    const secret = 'ftp://hooks.example/very-secret';
    const bad = refusal(['--rollout-webhook', `${a},${secret}`]);
    expect(bad).toMatch(/--rollout-webhook: URL 2 must be an http:\/\/ or https:\/\/ URL/);
    expect(bad).not.toContain('very-secret');
    expect(refusal([], { SLUICE_ROLLOUT_WEBHOOKS: ',' })).toMatch(/SLUICE_ROLLOUT_WEBHOOKS must name at least one URL/);
    expect(refusal([], { SLUICE_CONFIG: file('one.yaml', `rolloutWebhooks: "${a}"\n`) })).toMatch(/rolloutWebhooks must be a list of URLs/);
    expect(refusal([], { SLUICE_ROLLOUT_WEBHOOKS: [1, 2, 3, 4, 5, 6].map((n) => `${a}${n}`).join(',') })).toMatch(/at most 5/);
  });
});

describe("the demo's defaults", () => {
  it('bind xDS to loopback, under every source', () => {
    expect(loadConfig([], {}).xdsHost).toBe('0.0.0.0');
    expect(loadConfig([], {}, demoDefaults(DEFAULT_CONFIG)).xdsHost).toBe('127.0.0.1');
    expect(loadConfig(['--xds-host', '0.0.0.0'], {}, demoDefaults(DEFAULT_CONFIG)).xdsHost).toBe('0.0.0.0');
    expect(loadConfig([], { SLUICE_XDS_HOST: '::' }, demoDefaults(DEFAULT_CONFIG)).xdsHost).toBe('::');
  });
});

describe('the admin token', () => {
  it('comes from --admin-token, SLUICE_ADMIN_TOKEN or a file (trimmed), the highest source winning', () => {
    const tokenFile = file('token', `\n  ${TOKEN}\n`);
    expect(loadConfig(['--admin-token', TOKEN], {}).adminToken).toBe(TOKEN);
    expect(loadConfig([], { SLUICE_ADMIN_TOKEN: TOKEN }).adminToken).toBe(TOKEN);
    expect(loadConfig(['--admin-token-file', tokenFile], {}).adminToken).toBe(TOKEN);
    expect(loadConfig([], { SLUICE_ADMIN_TOKEN_FILE: tokenFile }).adminToken).toBe(TOKEN);
    expect(loadConfig(['--config', file('s.json', JSON.stringify({ adminTokenFile: tokenFile }))], {}).adminToken).toBe(TOKEN);
    // A file given as a flag beats a token in the environment.
    expect(loadConfig(['--admin-token-file', tokenFile], { SLUICE_ADMIN_TOKEN: 'other' }).adminToken).toBe(TOKEN);
  });

  it('is refused when given twice by one source, empty or unreadable, without ever echoing it', () => {
    const messages = [
      refusal(['--admin-token', TOKEN, '--admin-token-file', file('t1', TOKEN)]),
      refusal([], { SLUICE_ADMIN_TOKEN: TOKEN, SLUICE_ADMIN_TOKEN_FILE: file('t2', TOKEN) }),
      refusal(['--admin-token-file', file('t3', ' \n ')]),
      refusal(['--admin-token-file', join(dir, 'nope')]),
      refusal(['--admin-token', `${TOKEN} ${TOKEN}`]),
      refusal(['--admin-token-file', file('t4', `${TOKEN} x`)]),
    ];
    expect(messages[0]).toMatch(/give the admin token once: --admin-token and --admin-token-file both set it/);
    expect(messages[1]).toMatch(/SLUICE_ADMIN_TOKEN and SLUICE_ADMIN_TOKEN_FILE both set it/);
    expect(messages[2]).toMatch(/admin token file .*t3 \(--admin-token-file\) is empty/);
    expect(messages[3]).toMatch(/cannot read the admin token file/);
    expect(messages[4]).toMatch(/--admin-token must not contain whitespace/);
    expect(messages[5]).toMatch(/must not contain whitespace/);
    for (const message of messages) expect(message).not.toContain(TOKEN);
  });

  it('is needed to bind the admin API beyond loopback, and for --admin-auth-reads', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'admin.example.com']) {
      const message = refusal(['--admin-host', host]);
      expect(message).toMatch(new RegExp(`refusing to expose the admin API on ${host} without a token`));
      expect(message).toMatch(/--admin-token-file/);
      expect(loadConfig(['--admin-host', host], { SLUICE_ADMIN_TOKEN: TOKEN })).toMatchObject({ adminHost: host, adminToken: TOKEN });
    }
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      expect(loadConfig(['--admin-host', host], {}).adminHost).toBe(host);
    }
    expect(refusal(['--admin-auth-reads'])).toMatch(/--admin-auth-reads needs an admin token/);
    expect(loadConfig(['--admin-auth-reads'], { SLUICE_ADMIN_TOKEN: TOKEN }).adminAuthReads).toBe(true);
    expect(loadConfig([], { SLUICE_ADMIN_TOKEN: TOKEN, SLUICE_ADMIN_AUTH_READS: 'true' }).adminAuthReads).toBe(true);
  });
});

describe('settings', () => {
  it('cover every configuration field, each with a SLUICE_ variable named after its flag', () => {
    const fields = new Set(SETTINGS.map((s) => s.key));
    for (const field of [...Object.keys(DEFAULT_CONFIG), 'adminToken']) expect(fields.has(field as never), field).toBe(true);
    // A list setting's flag names one entry per use (--rollout-webhook); its variable holds them all (…_WEBHOOKS).
    for (const setting of SETTINGS) {
      expect(setting.env).toBe(`SLUICE_${setting.flag.toUpperCase().replaceAll('-', '_')}${setting.kind === 'urls' || setting.kind === 'hosts' ? 'S' : ''}`);
    }
  });

  it("are all in the README's Running sluice table, with their variable and config key", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Running sluice'), readme.indexOf('\n## ', readme.indexOf('## Running sluice') + 1));
    const rows = section.split('\n').filter((line) => line.startsWith('| `--'));
    expect(rows).toHaveLength(SETTINGS.length);
    for (const setting of SETTINGS) {
      const row = rows.find((line) => line.startsWith(`| \`--${setting.flag}\` |`));
      expect(row, setting.flag).toBeDefined();
      expect(row).toContain(`\`${setting.env}\``);
      if (setting.key !== 'config') expect(row).toContain(`\`${fileKey(setting)}\``);
    }
  });
});
