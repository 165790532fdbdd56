// A throwaway certificate authority for TLS tests, made with the openssl command in a temp dir at
// test time: a CA, server certificates for 127.0.0.1/localhost and client certificates with a
// common name and/or a SPIFFE URI SAN. Nothing is checked in; `remove()` deletes the dir.

import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedPair {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** Hex, as Node's X509Certificate.serialNumber gives it. */
  serial: string;
}

export interface ClientSubject {
  commonName?: string;
  spiffeId?: string;
}

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** A server certificate for 127.0.0.1, localhost and sluice-xds (the name envoy/bootstrap-ads-mtls.yaml checks). */
  server(name: string): IssuedPair;
  client(name: string, subject: ClientSubject): IssuedPair;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A new CA in a new temp dir (`name` distinguishes two CAs in one test). */
export function createTestPki(name = 'sluice-test-ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pki-'));
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const issue = (file: string, subject: string, extensions: string[]): IssuedPair => {
    writeFileSync(join(dir, `${file}.ext`), `${extensions.join('\n')}\n`);
    openssl(['req', ...EC_KEY, '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj', subject], dir);
    openssl(
      ['x509', '-req', '-in', `${file}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
        '-days', '2', '-out', `${file}.crt`, '-extfile', `${file}.ext`],
      dir,
    );
    const cert = readFileSync(join(dir, `${file}.crt`));
    return { certFile: join(dir, `${file}.crt`), keyFile: join(dir, `${file}.key`), cert, key: readFileSync(join(dir, `${file}.key`)), serial: new X509Certificate(cert).serialNumber };
  };
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    ca: readFileSync(join(dir, 'ca.crt')),
    server: (file) =>
      issue(file, '/CN=sluice-xds', ['basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:sluice-xds']),
    client: (file, subject) =>
      // Without a common name, the subject holds only an organisation (the certificate then names no identity but its SAN).
      issue(file, subject.commonName === undefined ? '/O=sluice-test' : `/CN=${subject.commonName}`, [
        'basicConstraints=CA:FALSE',
        'extendedKeyUsage=clientAuth',
        ...(subject.spiffeId ? [`subjectAltName=URI:${subject.spiffeId}`] : []),
      ]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
