// The demo's narration: the lines made from event data (weights, promote and rollback with the
// weights they moved, rollout changes left to their decisions, anything else by its summary;
// rollout decisions; proxies coming and going; NACKs) and `narrate` following a real sluice's
// event stream: the proxies connected before it, then every commit in order and every proxy event.

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RevisionEvent } from '../src/api/events.js';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { startSluice, type RunningSluice } from '../src/main.js';
import { CLUSTER_TYPE } from '../src/xds/type-urls.js';
import { predictBody } from '../test/admin/harness.js';
import { FakeDeltaEnvoy, FakeEnvoy, NODE } from '../test/support/fake-envoy.js';
import { Narration, connectedLine, narrate, nackLine, revisionLine, rolloutLine } from './narrator.js';

const AT = '2026-01-01T00:00:00.000Z';
const PREDICT = { versions: ['blue', 'green'], weights: { blue: 90, green: 10 } };

function revision(n: number, change: string, extra: Partial<RevisionEvent> = {}): RevisionEvent {
  return { type: 'revision', at: AT, revision: n, actor: 'alice', change, summary: `${change} predict`, service: 'predict', ...extra };
}

describe('event lines', () => {
  it('tells a weights change with every version in order, its actor and revision', () => {
    expect(revisionLine(revision(4, 'setWeights', { weights: { green: 50, blue: 50 } }), PREDICT)).toBe('weights predict: blue 90 → 50, green 10 → 50 (by alice, revision 4)');
    // A version the narration did not know yet comes after the known ones.
    expect(revisionLine(revision(4, 'setWeights', { weights: { blue: 80, green: 10, red: 10 } }), PREDICT)).toBe(
      'weights predict: blue 90 → 80, green 10, red 0 → 10 (by alice, revision 4)',
    );
  });

  it('tells promote and rollback with the version stable after them and the weights they moved', () => {
    expect(revisionLine(revision(5, 'promote', { actor: 'bob', weights: { blue: 0, green: 100 } }), PREDICT)).toBe(
      'promote predict: green is stable; blue 90 → 0, green 10 → 100 (by bob, revision 5)',
    );
    expect(revisionLine(revision(6, 'rollback', { weights: { blue: 100, green: 0 } }), PREDICT)).toBe(
      'rollback predict: all traffic back to stable blue; blue 90 → 100, green 10 → 0 (by alice, revision 6)',
    );
  });

  it('leaves rollout changes to their decisions and tells any other change by its summary', () => {
    for (const change of ['startRollout', 'steerRollout', 'rolloutUpdate', 'noteRollout']) expect(revisionLine(revision(7, change), PREDICT)).toBeUndefined();
    expect(revisionLine({ type: 'revision', at: AT, revision: 1, actor: 'admin', change: 'deleteListener', summary: 'delete listener edge', listener: 'edge' }, undefined)).toBe(
      'delete listener edge (by admin, revision 1)',
    );
  });

  it('tells a rollout decision, a NACK with Envoy\'s message, and how a proxy connects', () => {
    expect(
      rolloutLine({ type: 'rollout', at: AT, event: 'analysis', step: 1, actor: 'rollout', outcome: 'fail', revision: 7, service: 'predict', candidate: 'green', phase: 'progressing', message: 'step 1 analysis fail' }),
    ).toBe('rollout predict: step 1 analysis fail (by rollout, revision 7)');
    expect(
      nackLine({ type: 'nack', at: AT, node: 'e1', cluster: 'demo', envoyVersion: '1.40.0', resourceType: 'routes', version: 'r7', message: 'Invalid regex: missing )' }),
    ).toBe('NACK from e1: rejected routes version r7: Invalid regex: missing )');
    expect(connectedLine({ node: 'e1', cluster: 'demo', envoyVersion: '1.40.0', transport: 'sotw', aggregated: true })).toBe('proxy e1 connected (envoy 1.40.0, node cluster demo, ADS)');
    expect(connectedLine({ node: 'g1', cluster: '', envoyVersion: '', userAgent: 'grpc-go', clientVersion: '1.60.0', transport: 'delta', aggregated: false })).toBe(
      'proxy g1 connected (grpc-go 1.60.0, per-type services (delta))',
    );
  });

  it('remembers the weights every revision event carries, and tells a commit it already knew by its summary', () => {
    const service = { ...(predictBody() as object), name: 'predict', weights: { blue: 100, green: 0 } };
    const narration = new Narration({ revision: 3, services: [service] } as never, []);
    expect(narration.linesFor(revision(3, 'setWeights', { summary: 'set weights of predict', weights: { blue: 100, green: 0 } }))).toEqual([
      'set weights of predict (by alice, revision 3)',
    ]);
    expect(narration.linesFor(revision(4, 'setWeights', { weights: { blue: 70, green: 30 } }))).toEqual(['weights predict: blue 100 → 70, green 0 → 30 (by alice, revision 4)']);
    expect(narration.linesFor(revision(5, 'startRollout', { weights: { blue: 90, green: 10 } }))).toEqual([]);
    expect(narration.linesFor(revision(6, 'rollback', { weights: { blue: 100, green: 0 } }))).toEqual([
      'rollback predict: all traffic back to stable blue; blue 90 → 100, green 10 → 0 (by alice, revision 6)',
    ]);
  });
});

describe('narrate', () => {
  let sluice: RunningSluice | undefined;
  const clients: { close(): void }[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await sluice?.stop();
  });

  it('tells the proxies connected before it, then every commit in order and every proxy event, from the event stream', async () => {
    sluice = await startSluice({ ...DEFAULT_CONFIG, xdsHost: '127.0.0.1', xdsPort: 0, adminPort: 0, statePath: ':memory:' }, pino({ level: 'silent' }));
    const admin = async (method: string, path: string, body?: unknown): Promise<void> => {
      const response = await fetch(`${sluice!.adminUrl}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
      expect(response.status, await response.text()).toBeLessThan(300);
    };
    await admin('PUT', '/v1/services/predict', predictBody());
    // Connected before the narration starts: told first.
    const before = new FakeEnvoy(`127.0.0.1:${sluice.xdsPort}`);
    clients.push(before);
    before.subscribe(CLUSTER_TYPE, [], NODE);
    const clusters = await before.next();

    const lines: string[] = [];
    let wake: () => void = () => {};
    const stop = await narrate(sluice.adminUrl, (line) => {
      lines.push(line);
      wake();
    });
    const until = async (done: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!done()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`not told within 10 s: ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    };
    try {
      expect(lines).toEqual(['proxy fake-envoy connected (envoy 1.40.0, node cluster fake, ADS)']);
      before.nack(clusters, '', 'no such cluster');
      await admin('PUT', '/v1/services/predict/weights', { blue: 90, green: 10 });
      await admin('PUT', '/v1/services/predict/weights', { blue: 50, green: 50 });
      await admin('POST', '/v1/services/predict/rollback');
      await admin('POST', '/v1/services/predict/promote', { version: 'green' });
      await admin('DELETE', '/v1/services/predict?force=true');
      const delta = new FakeDeltaEnvoy(`127.0.0.1:${sluice.xdsPort}`);
      clients.push(delta);
      delta.send({ type_url: CLUSTER_TYPE, node: { ...NODE, id: 'e1', cluster: '' }, resource_names_subscribe: [] } as never);
      await until(() => lines.some((line) => line.startsWith('proxy e1 connected')));
      delta.close();
      // The journal keeps its order: once the disconnect is told, so is everything before it.
      await until(() => lines.includes('proxy e1 disconnected'));

      expect(lines.filter((line) => !line.startsWith('proxy') && !line.startsWith('NACK'))).toEqual([
        'weights predict: blue 100 → 90, green 0 → 10 (by admin, revision 2)',
        'weights predict: blue 90 → 50, green 10 → 50 (by admin, revision 3)',
        'rollback predict: all traffic back to stable blue; blue 50 → 100, green 50 → 0 (by admin, revision 4)',
        'promote predict: green is stable; blue 100 → 0, green 0 → 100 (by admin, revision 5)',
        'delete service predict (by admin, revision 6)',
      ]);
      expect(lines.filter((line) => line.startsWith('NACK'))).toEqual([expect.stringMatching(/^NACK from fake-envoy: rejected clusters version \S+: no such cluster$/)]);
      expect(lines.filter((line) => line.startsWith('proxy'))).toEqual([
        'proxy fake-envoy connected (envoy 1.40.0, node cluster fake, ADS)',
        'proxy e1 connected (envoy 1.40.0, ADS (delta))',
        'proxy e1 disconnected',
      ]);
    } finally {
      stop();
    }
  });
});
