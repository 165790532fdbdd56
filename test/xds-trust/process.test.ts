// The xDS TLS settings through `bin/sluice.js serve` as users start it: bad certificate files and
// identity policies refuse the start with one line naming the file and the field (exit 2), and
// xDS bound beyond loopback without TLS logs one loud warning naming the risk (observed without
// binding beyond loopback: a documentation address sluice then cannot bind).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice, startSluiceProcess, type LogLine } from '../support/sluice-process.js';
import { createTestPki, type IssuedPair, type TestPki } from '../support/test-pki.js';

let dir: string;
let pki: TestPki;
let server: IssuedPair;
let other: IssuedPair;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-xds-trust-'));
  pki = createTestPki();
  server = pki.server('server');
  other = pki.server('other');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  pki.remove();
});

const BASE = ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--state', ':memory:'];
/** A TEST-NET-1 address (RFC 5737): not loopback, and never this machine's, so sluice cannot bind it. */
const NOT_LOOPBACK = '192.0.2.1';

function oneLineRefusal(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^sluice: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

function logLines(stdout: string): LogLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

const isExposureWarning = (line: LogLine): boolean => line.level === 40 && /xDS WITHOUT TLS/.test(line.msg);

describe('refusals', () => {
  it('refuses an identity policy that is not valid, naming the file and the field', async () => {
    const policy = join(dir, 'bad-policy.yaml');
    writeFileSync(policy, 'rules:\n  - identity: core\n    nodeIds: []\n    nodeClusters: [core]\n');
    const args = [...BASE, '--xds-tls-cert', server.certFile, '--xds-tls-key', server.keyFile, '--xds-client-ca', pki.caFile, '--xds-identity-policy', policy];
    const line = oneLineRefusal(await runSluice(['serve', ...args]));
    expect(line).toBe(`sluice: ${policy}: rules[0].nodeIds must be a non-empty list of patterns`);
  });

  it('refuses a key that does not belong to the certificate, and a certificate file that is missing', async () => {
    const mismatched = oneLineRefusal(await runSluice(['serve', ...BASE, '--xds-tls-cert', server.certFile, '--xds-tls-key', other.keyFile]));
    expect(mismatched).toMatch(/^sluice: the xDS TLS files cannot serve .*: .*key values mismatch/);
    const missing = join(dir, 'missing.crt');
    const absent = oneLineRefusal(await runSluice(['serve', ...BASE, '--xds-tls-cert', missing, '--xds-tls-key', server.keyFile]));
    expect(absent).toMatch(`sluice: cannot read the xDS TLS certificate ${missing}`);
  });

  it('refuses settings that do not go together', async () => {
    const keyless = await runSluice(['serve', ...BASE, '--xds-tls-cert', server.certFile]);
    expect(oneLineRefusal(keyless)).toBe('sluice: --xds-tls-cert and --xds-tls-key go together: give both (or neither, for plaintext xDS)');
    const caOnly = await runSluice(['serve', ...BASE], { env: { SLUICE_XDS_CLIENT_CA: pki.caFile } });
    expect(oneLineRefusal(caOnly)).toMatch(/--xds-client-ca needs --xds-tls-cert and --xds-tls-key/);
    const policyOnly = await runSluice(['serve', ...BASE, '--xds-tls-cert', server.certFile, '--xds-tls-key', server.keyFile, '--xds-identity-policy', join(dir, 'p.yaml')]);
    expect(oneLineRefusal(policyOnly)).toMatch(/--xds-identity-policy needs --xds-client-ca/);
  });
});

describe('xDS beyond loopback without TLS', () => {
  it('logs one loud warning naming the risk; none with TLS, none on loopback', async () => {
    const exposed = await runSluice(['serve', '--xds-host', NOT_LOOPBACK, '--xds-port', '0', '--admin-port', '0', '--state', ':memory:']);
    // It then cannot bind the address (nothing is served beyond loopback by this test).
    expect(oneLineRefusal(exposed)).toMatch(`sluice cannot listen for the xDS on ${NOT_LOOPBACK}`);
    const warnings = logLines(exposed.stdout).filter(isExposureWarning);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/anyone on the network can read the fleet's configuration and impersonate proxies/);
    expect(warnings[0]!['xdsHost']).toBe(NOT_LOOPBACK);

    const withTls = await runSluice(['serve', '--xds-host', NOT_LOOPBACK, '--xds-port', '0', '--admin-port', '0', '--state', ':memory:', '--xds-tls-cert', server.certFile, '--xds-tls-key', server.keyFile]);
    expect(oneLineRefusal(withTls)).toMatch(`sluice cannot listen for the xDS on ${NOT_LOOPBACK}`);
    expect(logLines(withTls.stdout).filter(isExposureWarning)).toEqual([]);

    const loopback = await startSluiceProcess({ args: BASE });
    try {
      expect(loopback.logs().filter(isExposureWarning)).toEqual([]);
    } finally {
      await loopback.stop();
    }
  });
});
