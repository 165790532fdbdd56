// The admin API over HTTPS through real processes: `sluice serve --admin-tls-cert/--admin-tls-key`
// with certificates openssl makes now, and the CLI trusting its CA by --cacert or SLUICE_CACERT
// (without it, or with another CA, a one-line refusal naming --cacert, exit 2); plain HTTP gets no
// answer; a key that is not the certificate's stops the start naming the settings.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { createTestPki, type IssuedPair, type TestPki } from '../support/test-pki.js';
import { rawRequest } from './raw-request.js';

let dir: string;
let pki: TestPki;
/** A CA that signed none of the certificates sluice is given. */
let otherCa: TestPki;
let server: IssuedPair;
let client: IssuedPair;
let sluice: SluiceProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-admin-tls-'));
  pki = createTestPki();
  otherCa = createTestPki('other-ca');
  server = pki.server('admin');
  client = pki.client('client', { commonName: 'admin-client' });
  sluice = await startSluiceProcess({
    args: ['--admin-port', '0', '--xds-port', '0', '--state', join(dir, 'state.db'), '--admin-tls-cert', server.certFile, '--admin-tls-key', server.keyFile],
    cwd: dir,
  });
});
afterAll(async () => {
  await sluice?.stop();
  rmSync(dir, { recursive: true, force: true });
  pki?.remove();
  otherCa?.remove();
});

describe('the admin API over HTTPS', () => {
  it('says it serves https:// and answers there, not over plain HTTP', async () => {
    expect(sluice.adminUrl).toBe(`https://127.0.0.1:${sluice.adminPort}`);
    const answer = await rawRequest(`${sluice.adminUrl}/v1/services`, { caFile: pki.caFile });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ revision: 0 });
    await expect(rawRequest(`http://127.0.0.1:${sluice.adminPort}/v1/services`)).rejects.toThrow();
  });

  it("takes a change from a page of its https:// origin and refuses one from the http:// origin of the same host and port", async () => {
    const change = (origin: string) =>
      rawRequest(`${sluice.adminUrl}/v1/listeners/edge`, {
        method: 'PUT',
        caFile: pki.caFile,
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ address: '0.0.0.0', port: 8181 }),
      });
    const foreign = await change(`http://127.0.0.1:${sluice.adminPort}`);
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).error.code).toBe('SLUICE_CROSS_ORIGIN');
    expect((await change(sluice.adminUrl)).status).toBe(200);
  });

  it('is what the CLI talks to with --cacert or SLUICE_CACERT', async () => {
    const byFlag = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', pki.caFile, '--json']);
    expect(byFlag.stderr).toBe('');
    expect(byFlag.code).toBe(0);
    expect(JSON.parse(byFlag.stdout)).toMatchObject({ revision: 1 });
    const byEnv = await runSluice(['status'], { env: { SLUICE_SERVER: sluice.adminUrl, SLUICE_CACERT: pki.caFile } });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stdout).toMatch(/revision 1/);
  });

  it('is refused by the CLI in one line naming --cacert when the certificate is not trusted', async () => {
    for (const extra of [[], ['--cacert', otherCa.caFile]]) {
      const refused = await runSluice(['status', '--server', sluice.adminUrl, ...extra]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^sluice: cannot reach sluice at https:\/\/127\.0\.0\.1:\d+: .*certificate.* — give the CA of the admin API's certificate with --cacert or SLUICE_CACERT\n$/);
    }
    const missing = await runSluice(['status', '--server', sluice.adminUrl, '--cacert', join(dir, 'missing.crt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the CA file .*missing\.crt \(--cacert or SLUICE_CACERT\)/);
  });

  it('refuses to start with a key that is not the certificate\'s, naming the settings', async () => {
    const exited = await runSluice(
      ['serve', '--admin-port', '0', '--xds-port', '0', '--state', join(dir, 'other.db'), '--admin-tls-cert', server.certFile, '--admin-tls-key', client.keyFile],
      { cwd: dir },
    );
    expect(exited.code).toBe(2);
    expect(exited.stderr).toMatch(/the admin TLS files cannot be used \(.*\): check --admin-tls-cert .* and --admin-tls-key/);
    expect(exited.stderr).not.toMatch(/PRIVATE KEY/);
  });
});
