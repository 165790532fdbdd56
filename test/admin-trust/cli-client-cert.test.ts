// The CLI's client certificate through real processes: `sluice serve` with admin HTTPS and
// --admin-client-ca, and the CLI refused in one readable line without a certificate (naming --cert
// and --key), refused with one the client CA did not sign, and answered with one it did, given by
// flags or by SLUICE_CERT/SLUICE_KEY; a certificate without its key is a usage error.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { createTestPki, type IssuedPair, type TestPki } from '../support/test-pki.js';

let dir: string;
let pki: TestPki;
/** A CA the admin API does not trust for clients. */
let otherCa: TestPki;
let client: IssuedPair;
let stranger: IssuedPair;
let sluice: SluiceProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-cert-'));
  pki = createTestPki();
  otherCa = createTestPki('other-ca');
  const server = pki.server('admin');
  client = pki.client('operator', { commonName: 'operator' });
  stranger = otherCa.client('stranger', { commonName: 'operator' });
  sluice = await startSluiceProcess({
    args: [
      '--admin-port', '0', '--xds-port', '0', '--state', join(dir, 'state.db'),
      '--admin-tls-cert', server.certFile, '--admin-tls-key', server.keyFile, '--admin-client-ca', pki.caFile,
    ],
    cwd: dir,
  });
});
afterAll(async () => {
  await sluice?.stop();
  rmSync(dir, { recursive: true, force: true });
  pki?.remove();
  otherCa?.remove();
});

describe('the CLI against an admin API that asks for client certificates', () => {
  it('is refused without a certificate, in one line naming --cert and --key', async () => {
    const refused = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', pki.caFile]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^sluice: cannot reach sluice at https:\/\/127\.0\.0\.1:\d+: the admin API .*client certificate.* — give one with --cert and --key \(or SLUICE_CERT and SLUICE_KEY\)\n$/);
  });

  it('is refused with a certificate the client CA did not sign, saying so', async () => {
    const refused = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', pki.caFile, '--cert', stranger.certFile, '--key', stranger.keyFile]);
    expect(refused.code).toBe(2);
    // The server's alert or, as TLS 1.3 allows, a closed connection: either way the certificate is named.
    expect(refused.stderr).toMatch(/^sluice: cannot reach sluice at https:\/\/127\.0\.0\.1:\d+: .*client certificate — give one issued by the CA the admin API trusts for clients \(--admin-client-ca\)\n$/);
  });

  it('works with the certificate by --cert/--key and by SLUICE_CERT/SLUICE_KEY', async () => {
    const byFlags = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', pki.caFile, '--cert', client.certFile, '--key', client.keyFile, '--json']);
    expect(byFlags.stderr).toBe('');
    expect(byFlags.code).toBe(0);
    expect(JSON.parse(byFlags.stdout)).toMatchObject({ revision: 0 });
    const byEnv = await runSluice(['status'], {
      env: { SLUICE_SERVER: sluice.adminUrl, SLUICE_CACERT: pki.caFile, SLUICE_CERT: client.certFile, SLUICE_KEY: client.keyFile },
    });
    expect(byEnv.stderr).toBe('');
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toMatch(/revision 0/);
  });

  it('refuses a certificate without its key, a key that is not the certificate\'s and a missing file before sending anything', async () => {
    const alone = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', pki.caFile, '--cert', client.certFile]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^sluice: --cert \(SLUICE_CERT\) needs its key: give --key FILE or SLUICE_KEY\n/);
    const mismatched = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', pki.caFile, '--cert', client.certFile, '--key', stranger.keyFile]);
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toMatch(/^sluice: the client certificate .*operator\.crt and key .*stranger\.key cannot be used together \(--cert and --key\)/);
    expect(mismatched.stderr).not.toMatch(/PRIVATE KEY/);
    const missing = await runSluice(['status', '--server', sluice.adminUrl, '--cert', join(dir, 'missing.crt'), '--key', client.keyFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the client certificate file .*missing\.crt \(--cert or SLUICE_CERT\)/);
  });
});
