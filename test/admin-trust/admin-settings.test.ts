// Loading the admin API's trust settings: host names as a repeatable flag, a comma-separated
// variable or a file list (lower-cased, brackets dropped, at most 32, each a host name or IP,
// the culprit named); the TLS files only together, the client CA only with them.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-admin-settings-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('admin host names', () => {
  it('are read from each source as one list', () => {
    expect(loadConfig([], {}).adminHostNames).toEqual([]);
    expect(loadConfig(['--admin-host-name', 'Sluice.Internal', '--admin-host-name', '10.0.0.7,[fd00::1]'], {}).adminHostNames).toEqual([
      'sluice.internal',
      '10.0.0.7',
      'fd00::1',
    ]);
    expect(loadConfig([], { SLUICE_ADMIN_HOST_NAMES: 'a.example, b.example' }).adminHostNames).toEqual(['a.example', 'b.example']);
    const yaml = join(dir, 'sluice.yaml');
    writeFileSync(yaml, 'adminHostNames: [sluice.svc.cluster.local]\n');
    expect(loadConfig(['--config', yaml], {}).adminHostNames).toEqual(['sluice.svc.cluster.local']);
  });

  it('refuses what is not a host name or address, an empty list and too many, naming the source', () => {
    expect(refusal(['--admin-host-name', 'evil.example/path'])).toBe('--admin-host-name: "evil.example/path" is not a host name or IP address');
    expect(refusal([], { SLUICE_ADMIN_HOST_NAMES: 'ok.example,*.example' })).toBe('SLUICE_ADMIN_HOST_NAMES: "*.example" is not a host name or IP address');
    expect(refusal([], { SLUICE_ADMIN_HOST_NAMES: ' , ' })).toBe('SLUICE_ADMIN_HOST_NAMES must name at least one host');
    const many = Array.from({ length: 33 }, (_, i) => `h${i}.example`).join(',');
    expect(refusal(['--admin-host-name', many])).toBe('--admin-host-name names 33 hosts; at most 32');
    const yaml = join(dir, 'sluice.yaml');
    writeFileSync(yaml, 'adminHostNames: sluice.internal\n');
    expect(refusal(['--config', yaml])).toBe(`${yaml}: adminHostNames must be a list of host names`);
  });
});

describe('admin TLS files', () => {
  it('are taken as paths, together', () => {
    const config = loadConfig(['--admin-tls-cert', 'a.crt', '--admin-tls-key', 'a.key'], { SLUICE_ADMIN_CLIENT_CA: 'ca.crt' });
    expect(config).toMatchObject({ adminTlsCert: 'a.crt', adminTlsKey: 'a.key', adminClientCa: 'ca.crt' });
  });

  it('refuse a certificate without its key, a key without its certificate and a client CA without HTTPS', () => {
    expect(refusal(['--admin-tls-cert', 'a.crt'])).toMatch(/^HTTPS for the admin API needs both --admin-tls-cert and --admin-tls-key/);
    expect(refusal([], { SLUICE_ADMIN_TLS_KEY: 'a.key' })).toMatch(/^HTTPS for the admin API needs both/);
    expect(refusal(['--admin-client-ca', 'ca.crt'])).toMatch(/^--admin-client-ca \(SLUICE_ADMIN_CLIENT_CA\) needs HTTPS/);
  });
});
