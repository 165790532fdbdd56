// Rotating the xDS server certificate without a restart: sluice re-reads its certificate and key
// when the files change; a new TLS connection sees the new certificate, an ADS stream opened
// before keeps being served, and a rotation caught half-written (new certificate, old key) keeps
// the previous pair instead of refusing every handshake.

import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { startSluice, type RunningSluice } from '../../src/main.js';
import { decodeMessage } from '../../src/xds/codec.js';
import { LISTENER_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { createTestPki, type IssuedPair, type TestPki } from '../support/test-pki.js';

let pki: TestPki;
let first: IssuedPair;
let second: IssuedPair;
let client: IssuedPair;
let sluice: RunningSluice;
const logLines: { level: number; msg: string }[] = [];
const certFile = (): string => join(pki.dir, 'served.crt');
const keyFile = (): string => join(pki.dir, 'served.key');

beforeAll(async () => {
  pki = createTestPki();
  first = pki.server('first');
  second = pki.server('second');
  client = pki.client('edge', { commonName: 'edge' });
  copyFileSync(first.certFile, certFile());
  copyFileSync(first.keyFile, keyFile());
  sluice = await startSluice(
    { ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:', xdsTlsCert: certFile(), xdsTlsKey: keyFile(), xdsClientCa: pki.caFile },
    pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  );
});
afterAll(async () => {
  await sluice?.stop();
  pki.remove();
});

/** The serial of the certificate a new TLS connection to the xDS port is served. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: sluice.xdsPort, ca: pki.ca, cert: client.cert, key: client.key, ALPNProtocols: ['h2'] });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber.toUpperCase());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

async function setPort(port: number): Promise<void> {
  const response = await fetch(`${sluice.adminUrl}/v1/listeners/default`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: '0.0.0.0', port }),
  });
  expect(response.status).toBe(200);
}

function listenerPort(response: { resources: { value: Uint8Array }[] }): number {
  const listener = decodeMessage('envoy.config.listener.v3.Listener', response.resources[0]!.value) as { address: { socket_address: { port_value: number } } };
  return Number(listener.address.socket_address.port_value);
}

it('serves a rotated certificate to new connections while open streams keep going', async () => {
  const proxy = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`, undefined, grpc.credentials.createSsl(pki.ca, client.key, client.cert));
  try {
    proxy.subscribe(LISTENER_TYPE, [], { ...NODE, id: 'edge-1', cluster: 'edge' });
    const initial = await proxy.next(5000);
    proxy.ack(initial);
    expect(await servedSerial()).toBe(first.serial.toUpperCase());

    // Half a rotation: the new certificate beside the old key. The pair cannot serve; the old one stays.
    writeFileSync(certFile(), second.cert);
    await expect
      .poll(() => logLines.some((line) => line.level === 40 && /xDS TLS files changed but cannot serve/.test(line.msg)), { timeout: 10_000 })
      .toBe(true);
    expect(await servedSerial()).toBe(first.serial.toUpperCase());

    // The key follows: new connections get the new certificate.
    writeFileSync(keyFile(), second.key);
    await expect.poll(servedSerial, { timeout: 10_000 }).toBe(second.serial.toUpperCase());
    expect(logLines.some((line) => line.msg === 'xDS TLS certificate reloaded: new connections use it')).toBe(true);

    // The stream opened under the first certificate still receives changes.
    await setPort(9191);
    const changed = await proxy.next(5000);
    expect(listenerPort(changed)).toBe(9191);
    expect(proxy.error).toBeUndefined();
    // And a new stream is served under the new certificate.
    const fresh = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`, undefined, grpc.credentials.createSsl(pki.ca, client.key, client.cert));
    try {
      fresh.subscribe(LISTENER_TYPE, [], { ...NODE, id: 'edge-2', cluster: 'edge' });
      expect(listenerPort(await fresh.next(5000))).toBe(9191);
    } finally {
      fresh.close();
    }
  } finally {
    proxy.close();
  }
});
