// `sluice status` prints the proxies' warnings under the proxies table: here an Envoy 1.35 whose
// node cluster no listener selects, and a node id two ADS clients claim (shown merged as one proxy).

import { afterEach, beforeEach, expect, it } from 'vitest';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { predictService, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;
const clients: FakeEnvoy[] = [];

beforeEach(async () => {
  h = await startCliHarness();
  expect((await h.run('apply', '-f', await h.file('predict.json', JSON.stringify(predictService())))).code).toBe(0);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await h.stop();
});

function connect(node: typeof NODE): void {
  const client = new FakeEnvoy(`127.0.0.1:${h.sluice.xdsPort}`);
  clients.push(client);
  client.subscribe(CLUSTER_TYPE, [], node);
}

/** Waits (bounded, woken by fleet changes) until sluice holds `count` streams. */
async function streams(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (h.sluice.fleet.streamCount() !== count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`sluice did not come to ${count} streams`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      const stop = h.sluice.fleet.onChange(() => {
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }
}

it('status lists each proxy warning under the proxies table', async () => {
  const put = await fetch(`${h.sluice.adminUrl}/v1/listeners/default`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: '0.0.0.0', port: 8080, nodes: { clusters: ['edge'] } }),
  });
  expect(put.status, await put.text()).toBe(200);
  connect({ ...NODE, id: 'old-1', cluster: 'egde', user_agent_build_version: { version: { major_number: 1, minor_number: 35, patch: 0 } } });
  connect({ ...NODE, id: 'twin', cluster: 'edge' });
  connect({ ...NODE, id: 'twin', cluster: 'edge' });
  await streams(3);

  const { code, stdout, stderr } = await h.run('status');
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const tail = stdout.slice(stdout.indexOf('proxies in sync'));
  expect(tail.split('\n')).toEqual([
    'proxies in sync',
    '',
    'warnings (3):',
    '  old-1: no-listener-selected: no listener selects node cluster "egde", so this Envoy receives no listener; listeners select the node clusters "edge"',
    expect.stringMatching(/^ {2}old-1: cohort-cookie-affinity: Envoy 1\.35\.0 is older than 1\.36: /),
    expect.stringMatching(/^ {2}twin: duplicate-node-id: 2 ADS streams \(\d+, \d+\) carry node id "twin"/),
    '',
  ]);
});
