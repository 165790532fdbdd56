// Flow control and stream lifecycle: a client that stops reading does not make sluice buffer
// every snapshot (it gets the latest once it reads again), and thousands of streams opening and
// closing leave no stream, watch or fleet entry behind.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { XdsHarness, service, state } from '../support/xds-harness.js';

let harness: XdsHarness;

beforeEach(async () => {
  harness = await new XdsHarness().start();
});

afterEach(async () => {
  await harness.stop();
});

/** A state big enough that a few cluster responses fill the transport's buffers. */
function bigState(revision: number, greenShare: number) {
  const services = Array.from({ length: 300 }, (_, i) => service(`svc${i}`, { blue: 100 - greenShare, green: greenShare }));
  for (const s of services) s.timeout = `${revision}s`;
  return state(revision, ...services);
}

describe('flow control', () => {
  it('coalesces to the latest snapshot while a client is not reading', async () => {
    const first = harness.publish(bigState(1, 0)).snapshot.versions();
    const client = new FakeEnvoy(harness.address);
    try {
      client.subscribe(CLUSTER_TYPE, [], NODE);
      client.subscribe(ROUTE_TYPE, ['default']);
      await client.ackUntilVersions({ [CLUSTER_TYPE]: first[CLUSTER_TYPE], [ROUTE_TYPE]: first[ROUTE_TYPE] }, { names: { [ROUTE_TYPE]: ['default'] } });
      await harness.waitAcked(NODE.id, { [CLUSTER_TYPE]: first[CLUSTER_TYPE], [ROUTE_TYPE]: first[ROUTE_TYPE] });
      const before = harness.fleet.counters.responses;
      client.pause();
      let last = harness.publish(bigState(2, 1));
      for (let revision = 3; revision <= 60; revision++) last = harness.publish(bigState(revision, revision % 100));
      // Negative check: while the client reads nothing, sluice must not queue a response per snapshot.
      await client.noResponseWithin(300);
      const sentWhilePaused = harness.fleet.counters.responses - before;
      expect(sentWhilePaused).toBeGreaterThan(0);
      expect(sentWhilePaused).toBeLessThan(20);

      client.resume();
      const seen: string[] = [];
      const latestRoutes = last.snapshot.type(ROUTE_TYPE).version;
      while (!seen.includes(latestRoutes)) {
        const response = await client.next(5000);
        seen.push(response.version_info);
        if (response.type_url === CLUSTER_TYPE) client.ack(response);
        if (response.type_url === ROUTE_TYPE) client.ack(response, ['default']);
      }
      expect(harness.fleet.counters.responses - before).toBeLessThan(25);
    } finally {
      client.close();
    }
  });
});

describe('stream lifecycle', () => {
  it('leaves nothing behind after 10,000 streams connect and disconnect', async () => {
    harness.publish(state(1, service('predict', { blue: 100, green: 0 })));
    const cycles = 10_000;
    const parallel = 20;
    for (let done = 0; done < cycles; done += parallel) {
      await Promise.all(
        Array.from({ length: parallel }, async (_, i) => {
          const delta = (done + i) % 2 === 1;
          const client = delta ? new FakeDeltaEnvoy(harness.address) : new FakeEnvoy(harness.address);
          client.send({ node: { ...NODE, id: `churn-${done + i}` }, type_url: delta ? LISTENER_TYPE : CLUSTER_TYPE } as never);
          await client.next(5000);
          if (delta) client.send({ type_url: ENDPOINT_TYPE, resource_names_subscribe: ['predict_blue'] } as never);
          client.close();
        }),
      );
    }
    await expect.poll(() => harness.server.streamCount(), { timeout: 5000 }).toBe(0);
    expect(harness.cache.watcherCount()).toBe(0);
    expect(harness.server.nodeCount()).toBe(0);
    expect(harness.server.admittedStreams()).toBe(0);
    expect(harness.fleet.list()).toEqual([]);
  }, 120_000);
});
