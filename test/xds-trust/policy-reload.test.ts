// The xDS identity policy re-read while `bin/sluice.js serve` runs: a changed policy judges the
// streams that start after it; a policy file that becomes invalid keeps the last good policy in
// force and is logged once, as an error naming the file and the field, until it changes again.

import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LISTENER_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { createTestPki, type TestPki } from '../support/test-pki.js';

let dir: string;
let pki: TestPki;
let policyFile: string;
let sluice: SluiceProcess;
let credentials: grpc.ChannelCredentials;

const EDGE_ONLY = 'rules:\n  - identity: spiffe://example.org/ns/ml/sa/edge-*\n    nodeIds: ["edge-*"]\n    nodeClusters: [edge]\n';
const EDGE_AND_CORE = 'rules:\n  - identity: spiffe://example.org/ns/ml/sa/edge-*\n    nodeIds: ["edge-*"]\n    nodeClusters: [edge, core]\n';
const INVALID = 'rules:\n  - identity: spiffe://example.org/ns/ml/sa/edge-*\n    nodeIds: []\n    nodeClusters: [edge]\n';

/** Replaces the policy file at once, as a config-map update or an editor's save does. */
function writePolicy(text: string): void {
  const next = `${policyFile}.next`;
  writeFileSync(next, text);
  renameSync(next, policyFile);
}

/** What a new stream claiming node cluster `cluster` gets first: the listener type, or the refusal's status code. */
async function newStream(cluster: string): Promise<string> {
  const client = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`, undefined, credentials);
  client.subscribe(LISTENER_TYPE, [], { ...NODE, id: 'edge-1', cluster });
  try {
    return (await client.next(5000)).type_url;
  } catch (error) {
    return `refused ${(error as grpc.ServiceError).code}`;
  } finally {
    client.close();
  }
}

const policyErrors = (): string[] => sluice.logs().filter((line) => line.level === 50 && /identity policy/.test(line.msg)).map((line) => line.msg);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-policy-reload-'));
  pki = createTestPki();
  const server = pki.server('server');
  const edge = pki.client('edge', { spiffeId: 'spiffe://example.org/ns/ml/sa/edge-1' });
  credentials = grpc.credentials.createSsl(pki.ca, edge.key, edge.cert);
  policyFile = join(dir, 'policy.yaml');
  writePolicy(EDGE_ONLY);
  sluice = await startSluiceProcess({
    args: [
      '--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--state', ':memory:',
      '--xds-tls-cert', server.certFile, '--xds-tls-key', server.keyFile, '--xds-client-ca', pki.caFile, '--xds-identity-policy', policyFile,
    ],
  });
});
afterAll(async () => {
  await sluice?.stop();
  rmSync(dir, { recursive: true, force: true });
  pki?.remove();
});

describe('the identity policy while sluice runs', () => {
  it('judges new streams by the changed file, and by the last good one while the file is invalid', async () => {
    const denied = `refused ${grpc.status.PERMISSION_DENIED}`;
    expect(await newStream('edge')).toBe(LISTENER_TYPE);
    expect(await newStream('core')).toBe(denied);

    writePolicy(EDGE_AND_CORE);
    await vi.waitFor(async () => expect(await newStream('core')).toBe(LISTENER_TYPE), { timeout: 15_000, interval: 100 });
    expect(sluice.logs().some((line) => line.level === 30 && line.msg === 'xDS identity policy reloaded: new streams are judged by it')).toBe(true);

    writePolicy(INVALID);
    await vi.waitFor(() => expect(policyErrors()).toHaveLength(1), { timeout: 15_000, interval: 100 });
    expect(policyErrors()[0]).toBe(
      `the xDS identity policy changed but cannot be used: ${policyFile}: rules[0].nodeIds must be a non-empty list of patterns; new streams are still judged by the last good policy`,
    );
    // The last good policy still holds, and the unchanged invalid file is not logged again meanwhile.
    expect(await newStream('core')).toBe(LISTENER_TYPE);
    expect(await newStream('edge')).toBe(LISTENER_TYPE);

    writePolicy(EDGE_ONLY);
    await vi.waitFor(async () => expect(await newStream('core')).toBe(denied), { timeout: 15_000, interval: 100 });
    expect(policyErrors()).toHaveLength(1);
    expect(sluice.child.exitCode).toBeNull();
  }, 60_000);
});
