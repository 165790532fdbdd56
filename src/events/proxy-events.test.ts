import { describe, expect, it } from 'vitest';
import type { NodeInfo } from '../xds/server/messages.js';
import { CLUSTER_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import type { EventInput } from './journal.js';
import { ProxyEvents, type SuspectedRejection } from './proxy-events.js';

const AT = new Date('2025-01-01T00:00:00.000Z');
const ADS = { kind: 'sotw', aggregated: true } as const;
const PER_TYPE = { kind: 'sotw', aggregated: false } as const;

function node(id: string): NodeInfo {
  return { id, cluster: 'edge', userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' };
}

/** A journal that keeps what is appended and is watched when the test says so. */
function recorder(watched = false) {
  const appended: EventInput[] = [];
  const journal = { watched: () => watched, append: (event: EventInput) => void appended.push(event) };
  return { journal, appended, watch: (on: boolean) => (watched = on) };
}

/** The source appends once per event-loop turn. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ProxyEvents', () => {
  it('tells of a node connecting with its first stream and leaving with its last', async () => {
    const { journal, appended } = recorder();
    const events = new ProxyEvents({ journal, now: () => AT });
    events.streamOpened(1, node('a'), PER_TYPE);
    events.streamOpened(2, node('a'), PER_TYPE);
    events.streamClosed(1);
    await nextTurn();
    expect(appended).toEqual([
      { type: 'proxy-connected', at: AT.toISOString(), node: 'a', cluster: 'edge', envoyVersion: '1.40.0', transport: 'sotw', aggregated: false },
    ]);
    events.streamClosed(2);
    events.streamClosed(2);
    await nextTurn();
    expect(appended.slice(1)).toEqual([{ type: 'proxy-disconnected', at: AT.toISOString(), node: 'a', cluster: 'edge', envoyVersion: '1.40.0' }]);
  });

  it('records ACKs only while the journal is watched, the newest per stream and type in a turn, in order', async () => {
    const { journal, appended, watch } = recorder();
    const events = new ProxyEvents({ journal, now: () => AT });
    events.streamOpened(1, node('a'), ADS);
    events.acked(1, CLUSTER_TYPE, 'c1');
    await nextTurn();
    expect(appended.map((e) => e.type)).toEqual(['proxy-connected']);

    watch(true);
    events.acked(1, CLUSTER_TYPE, 'c2');
    events.acked(1, LISTENER_TYPE, 'l2');
    events.acked(1, CLUSTER_TYPE, 'c3');
    await nextTurn();
    expect(appended.slice(1).map((e) => [e.type, e['resourceType'], e['version']])).toEqual([
      ['ack', 'clusters', 'c3'],
      ['ack', 'listeners', 'l2'],
    ]);
    // A new turn starts afresh: an ACK of the same type is an event of its own.
    events.acked(1, CLUSTER_TYPE, 'c4');
    await nextTurn();
    expect(appended.slice(3).map((e) => e['version'])).toEqual(['c4']);
  });

  it('records every NACK, watched or not, with what the node rejects now as suspects', async () => {
    const { journal, appended } = recorder();
    let asked = 0;
    const rejections = (): ReadonlyMap<string, readonly SuspectedRejection[]> => {
      asked++;
      return new Map([['a', [{ type: 'routes', version: 'r9', services: ['predict'], listeners: [] }]]]);
    };
    const events = new ProxyEvents({ journal, rejections, now: () => AT });
    events.streamOpened(1, node('a'), ADS);
    await nextTurn();
    expect(asked).toBe(0);
    events.nacked(1, ROUTE_TYPE, 'r9', 'invalid regex');
    events.nacked(1, CLUSTER_TYPE, 'c9', 'no such cluster');
    await nextTurn();
    expect(asked).toBe(1);
    expect(appended.slice(1)).toEqual([
      { type: 'nack', at: AT.toISOString(), node: 'a', cluster: 'edge', envoyVersion: '1.40.0', resourceType: 'routes', version: 'r9', message: 'invalid regex', services: ['predict'], listeners: [] },
      { type: 'nack', at: AT.toISOString(), node: 'a', cluster: 'edge', envoyVersion: '1.40.0', resourceType: 'clusters', version: 'c9', message: 'no such cluster' },
    ]);
  });

  it('names a client that is not Envoy by its user agent', async () => {
    const { journal, appended } = recorder();
    const events = new ProxyEvents({ journal, now: () => AT });
    events.streamOpened(1, { id: 'g', cluster: '', userAgentName: 'gRPC Node', clientVersion: '1.14.1', envoyVersion: '' }, ADS);
    await nextTurn();
    expect(appended[0]).toMatchObject({ node: 'g', envoyVersion: '', userAgent: 'gRPC Node', clientVersion: '1.14.1' });
  });
});
