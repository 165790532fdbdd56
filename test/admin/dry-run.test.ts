// `?dryRun=true` on every mutating route: nothing written (state, revision, audit, node resources),
// the listed changes equal the difference the real call then makes to a node's resources (each
// pointer resolving to its old and new value), and refusals equal the real call's, If-Match included.

import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ResourceChange } from '../../src/api/dry-run.js';
import { FleetStatus } from '../../src/fleet/status.js';
import { DryRunDiff } from '../../src/sync/dry-run.js';
import { MAX_VALUE_CHARS } from '../../src/api/json-diff.js';
import { buildFullApp, type FullApp } from './full-app.js';
import { predictBody, send } from './harness.js';

let full: FullApp;
/** The proxies the dry run previews for (besides Envoy's default group). */
let proxies: FleetStatus;

beforeEach(async () => {
  proxies = new FleetStatus();
  full = await buildFullApp({ dryRun: new DryRunDiff(() => proxies.list()) });
  await full.app.ready();
});

afterEach(async () => {
  await full.close();
});

type Method = 'PUT' | 'POST' | 'DELETE';
type Resources = Record<string, Record<string, unknown>[]>;
const KINDS = { listeners: 'listener', routes: 'route', clusters: 'cluster', endpoints: 'endpoints' } as const;

async function nodeResources(): Promise<Resources> {
  return (await send(full.app, 'GET', '/v1/nodes/n1/resources')).json().resources;
}

async function written() {
  return { state: full.store.current(), audit: await full.store.audit({ limit: 100 }), resources: await nodeResources() };
}

function at(resource: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((value, token) => (value as Record<string, unknown> | undefined)?.[token], resource);
}

/** A value as a dry run shows it: whole, or its JSON length when longer than the bound. */
function shown(value: unknown): unknown {
  const length = JSON.stringify(value).length;
  return length > MAX_VALUE_CHARS ? { $truncated: length } : value;
}

/** The dry run's changes checked against the node's resources before and after the real call. */
function expectChangesMatch(changes: ResourceChange[], before: Resources, after: Resources): void {
  const named = (resources: Record<string, unknown>[]) => new Map(resources.map((r) => [String(r['name'] ?? r['cluster_name']), r]));
  const expected: string[] = [];
  for (const [key, kind] of Object.entries(KINDS)) {
    const old = named(before[key] ?? []);
    const now = named(after[key] ?? []);
    for (const name of new Set([...old.keys(), ...now.keys()])) {
      const change = !old.has(name) ? 'added' : !now.has(name) ? 'removed' : JSON.stringify(old.get(name)) === JSON.stringify(now.get(name)) ? undefined : 'changed';
      if (change !== undefined) expected.push(`${kind} ${name} ${change}`);
    }
    for (const c of changes.filter((c) => c.kind === kind && c.change === 'changed')) {
      for (const path of c.paths ?? []) {
        if (path.order) continue;
        if ('new' in path) expect(shown(at(now.get(c.name), path.path))).toEqual(path.new);
        else expect(shown(at(old.get(c.name), path.path))).toEqual(path.old);
      }
    }
  }
  expect(changes.filter((c) => c.group === 'default').map((c) => `${c.kind} ${c.name} ${c.change}`).sort()).toEqual(expected.sort());
}

/** Dry run, check nothing was written, then the real call; their changes must match. */
async function dryThenReal(method: Method, url: string, body?: unknown): Promise<ResourceChange[]> {
  const before = await written();
  const separator = url.includes('?') ? '&' : '?';
  const dry = await send(full.app, method, `${url}${separator}dryRun=true`, body, { 'if-match': `"${before.state.revision}"` });
  expect(dry.statusCode, dry.body).toBe(200);
  expect(dry.headers['etag']).toBe(`"${before.state.revision}"`);
  const answer = dry.json();
  expect(answer).toMatchObject({ dryRun: true, revision: before.state.revision, unchanged: false });
  expect(await written()).toEqual(before);
  const real = await send(full.app, method, url, body);
  expect(real.statusCode, real.body).toBeLessThan(300);
  expect(full.store.current().revision).toBe(before.state.revision + 1);
  expectChangesMatch(answer.changes, before.resources, await nodeResources());
  return answer.changes;
}

const predict = '/v1/services/predict';

it('previews every mutating route without writing, listing what the real call then changes', async () => {
  expect(await dryThenReal('PUT', '/v1/listeners/edge', { port: 8081 })).toContainEqual(
    expect.objectContaining({ group: 'default', kind: 'listener', name: 'edge', change: 'added' }),
  );
  const put = await dryThenReal('PUT', predict, predictBody());
  expect(put).toContainEqual({ group: 'default', kind: 'cluster', name: 'predict_green', change: 'added' });
  const weights = await dryThenReal('PUT', `${predict}/weights`, { blue: 90, green: 10 });
  expect(weights).toEqual([expect.objectContaining({ group: 'default', kind: 'route', name: 'default', change: 'changed' })]);
  expect(weights[0]?.paths).toContainEqual(expect.objectContaining({ old: 10000, new: 9000 }));
  await dryThenReal('POST', `${predict}/rollback`, {});
  await dryThenReal('POST', `${predict}/promote`, { version: 'green' });
  await dryThenReal('POST', `${predict}/rollouts`, { candidate: 'blue', steps: [{ weight: 50 }, { approve: true }] });
  await dryThenReal('POST', `${predict}/rollout/pause`, {});
  await dryThenReal('POST', `${predict}/rollout/resume`);
  await dryThenReal('POST', `${predict}/rollout/abort`, {});
  await dryThenReal('POST', '/v1/revisions/3/restore');
  await dryThenReal('DELETE', `${predict}?force=true`);
  await dryThenReal('DELETE', '/v1/listeners/edge');
});

const envoyNode = (id: string, cluster: string) => ({ id, cluster, userAgentName: 'envoy', clientVersion: '1.40.0', envoyVersion: '1.40.0' });

it('lists each node group in use once per distinct translation', async () => {
  proxies.streamOpened(1, envoyNode('a', 'edge'), { kind: 'sotw', aggregated: true });
  proxies.streamOpened(2, envoyNode('b', 'edge'), { kind: 'sotw', aggregated: false });
  proxies.streamOpened(3, envoyNode('c', 'mesh'), { kind: 'sotw', aggregated: false });
  const changes = await dryThenReal('PUT', predict, predictBody());
  expect([...new Set(changes.map((c) => c.group))]).toEqual(['default', 'envoy-per-type']);
});

it('shows proxies that a selector change moves to another group what they would receive there', async () => {
  await send(full.app, 'PUT', predict, predictBody());
  await send(full.app, 'PUT', '/v1/listeners/internal', { port: 9000, nodes: { clusters: ['mesh'] } });
  proxies.streamOpened(1, envoyNode('a', 'edge'), { kind: 'sotw', aggregated: true });
  proxies.streamOpened(2, envoyNode('b', 'mesh'), { kind: 'sotw', aggregated: true });
  const changes = await dryThenReal('PUT', '/v1/listeners/internal', { port: 9000, nodes: { clusters: ['mesh', 'edge'] } });
  // The listener itself is unchanged for those it already reached; the edge proxy moves to their group and gains it.
  expect(changes.map((c) => `${c.group}: ${c.kind} ${c.name} ${c.change}`)).toEqual(['default#default → default: listener internal added', 'default#default → default: route internal added']);
});

it('refuses under dryRun exactly as the real call does, If-Match included, and writes nothing', async () => {
  await send(full.app, 'PUT', predict, predictBody());
  await send(full.app, 'POST', `${predict}/rollouts`, { candidate: 'green', steps: [{ approve: true }] });
  const calls: [Method, string, unknown?, Record<string, string>?][] = [
    ['PUT', `${predict}/weights`, { blue: 90, red: 10 }],
    ['PUT', `${predict}/weights`, { blue: 90, green: 10 }],
    ['PUT', `${predict}/weights?override=rollout`, { blue: 90, green: 10 }, { 'if-match': '"1"' }],
    ['POST', `${predict}/promote`, { version: 'red' }],
    ['DELETE', predict],
    ['DELETE', '/v1/listeners/default'],
    ['PUT', '/v1/listeners/edge', { port: 'x' }],
    ['POST', '/v1/services/nope/rollback'],
    ['POST', `${predict}/rollout/approve`, { reason: 'no body taken' }],
    ['POST', `${predict}/rollouts`, { candidate: 'green', steps: [{ approve: true }] }],
    ['POST', '/v1/revisions/9/restore'],
  ];
  for (const [method, url, body, headers] of calls) {
    const before = await written();
    const dry = await send(full.app, method, `${url}${url.includes('?') ? '&' : '?'}dryRun=true`, body, headers);
    expect(await written()).toEqual(before);
    const real = await send(full.app, method, url, body, headers);
    expect(dry.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
    expect({ status: dry.statusCode, body: dry.json() }).toEqual({ status: real.statusCode, body: real.json() });
  }
  expect(full.store.current().revision).toBe(2);
});

it('answers a change that changes nothing as unchanged with no changes', async () => {
  await send(full.app, 'PUT', predict, predictBody());
  const dry = await send(full.app, 'PUT', `${predict}?dryRun=true`, predictBody());
  expect(dry.json()).toEqual({ dryRun: true, revision: 1, unchanged: true, changes: [] });
});
