// `status`, `set-weights`, `promote` and `rollback` against sluice running in this process: human
// tables, --json answers that parse, --if-match, --force over an active rollout, changes that
// change nothing, and a scripted ADS client shown in sync.

import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../src/xds/type-urls.js';
import { FakeEnvoy, NODE } from '../support/fake-envoy.js';
import { predictService, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;

beforeEach(async () => {
  h = await startCliHarness();
  const applied = await h.run('apply', '-f', await h.file('predict.json', JSON.stringify(predictService())));
  expect(applied.code).toBe(0);
});

afterEach(async () => {
  await h.stop();
});

it('status lists the services with their weights and stable version, and no proxies', async () => {
  const { code, stdout, stderr } = await h.run('status');
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toBe(
    [
      `sluice at ${h.sluice.adminUrl}, revision 1`,
      '',
      'SERVICE  STABLE  WEIGHTS            LISTENER  PREFIX    IN SYNC  ROLLOUT',
      'predict  blue    blue 100, green 0  default   /predict  -        -',
      '',
      'no proxies connected',
      '',
    ].join('\n'),
  );
  expect(stdout).not.toContain('\u001b[');
});

it('status SERVICE shows its versions, weights, endpoints and which is stable', async () => {
  const { code, stdout } = await h.run('status', 'predict');
  expect(code).toBe(0);
  expect(stdout).toContain('service predict at revision 1: listener default, prefix /predict, hosts *');
  expect(stdout).toContain(['VERSION  WEIGHT  STABLE  ENDPOINTS', 'blue     100%    yes     127.0.0.1:5001', 'green    0%              127.0.0.1:5002'].join('\n'));
});

it('status shows a connected proxy in sync once it has ACKed the current revision', async () => {
  const envoy = new FakeEnvoy(`127.0.0.1:${h.sluice.xdsPort}`);
  try {
    // As Envoy does: every type, endpoints and routes by name.
    const edsNames = ['predict_blue', 'predict_green'];
    envoy.subscribe(CLUSTER_TYPE, [], NODE);
    envoy.subscribe(ENDPOINT_TYPE, edsNames);
    envoy.subscribe(LISTENER_TYPE);
    envoy.subscribe(ROUTE_TYPE, ['default']);
    const all = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE] as const;
    await envoy.ackUntil(() => envoy.heldNames(ENDPOINT_TYPE).join() === edsNames.join() && all.every((t) => envoy.ackedVersion(t) !== undefined), {
      names: { [ENDPOINT_TYPE]: edsNames, [ROUTE_TYPE]: ['default'] },
    });
    // sluice has heard the last ACK before the command asks it.
    await vi.waitFor(() => {
      const types = h.sluice.fleet.list()[0]?.types;
      for (const typeUrl of all) expect(types?.[typeUrl]?.ackedVersion).toBe(envoy.ackedVersion(typeUrl));
    });
    const { code, stdout } = await h.run('status');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`PROXY +CLIENT +APPLIED +IN SYNC +REJECTS\\n${NODE.id} .* 1 +yes +-\\n1 of 1 proxies in sync`));
    // The service is in sync on the one proxy, and nothing is rejected.
    expect(stdout).toMatch(/predict +blue +blue 100, green 0 +default +\/predict +1\/1 +-\n/);
    expect(stdout).not.toContain('rejected (');
  } finally {
    envoy.close();
  }
});

it('status --json prints the server JSON of services and proxies', async () => {
  const { code, stdout } = await h.run('status', '--json');
  expect(code).toBe(0);
  const json = JSON.parse(stdout);
  expect(json).toMatchObject({ revision: 1, services: [{ name: 'predict', weights: { blue: 100, green: 0 } }], proxies: [] });
  const one = JSON.parse((await h.run('status', 'predict', '--json')).stdout);
  expect(one).toMatchObject({ revision: 1, service: { name: 'predict', stable: 'blue' }, proxies: [] });
});

it('set-weights, promote and rollback move traffic and report the new revision', async () => {
  expect(await h.run('set-weights', 'predict', 'blue=90', 'green=10')).toEqual({
    code: 0,
    stdout: 'predict: blue 90, green 10 (stable blue), revision 2\n',
    stderr: '',
  });
  expect((await h.run('rollback', 'predict')).stdout).toBe('predict: blue 100, green 0 (stable blue), revision 3\n');
  expect((await h.run('promote', 'predict', 'green')).stdout).toBe('predict: blue 0, green 100 (stable green), revision 4\n');
  expect(h.sluice.store.current().services['predict']).toMatchObject({ stable: 'green', weights: { blue: 0, green: 100 } });
});

it('--json prints the server answer of a traffic action', async () => {
  const { code, stdout } = await h.run('set-weights', 'predict', 'blue=50', 'green=50', '--json');
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ revision: 2, name: 'predict', weights: { blue: 50, green: 50 } });
});

it('--if-match applies on the given revision and refuses a stale one', async () => {
  expect((await h.run('set-weights', 'predict', 'green=100', '--if-match', '1')).code).toBe(0);
  const stale = await h.run('rollback', 'predict', '--if-match', '1');
  expect(stale.code).toBe(1);
  expect(stale.stderr).toMatch(/^sluice: SLUICE_REVISION_MISMATCH: .+\n$/);
  expect(h.sluice.store.current().revision).toBe(2);
});

it('shows the server code, path and message of refused input, and changes nothing', async () => {
  const sum = await h.run('set-weights', 'predict', 'blue=90', 'green=5');
  expect(sum).toEqual({ code: 1, stdout: '', stderr: 'sluice: SLUICE_WEIGHTS_SUM: Weights must sum to exactly 100; they sum to 95.\n' });
  const unknown = await h.run('set-weights', 'predict', 'blue=90', 'red=10');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toBe('sluice: SLUICE_UNKNOWN_VERSION at /red: Weight given for "red", which is not a version of this service.\n');
  const promote = await h.run('promote', 'predict', 'red', '--json');
  expect(promote.code).toBe(1);
  expect(JSON.parse(promote.stdout)).toMatchObject({ error: { code: 'SLUICE_UNKNOWN_VERSION', path: '/version' } });
  expect((await h.run('rollback', 'nope')).stderr).toBe('sluice: SLUICE_SERVICE_NOT_FOUND: No service is named "nope".\n');
  expect(h.sluice.store.current().revision).toBe(1);
});

async function startRollout(): Promise<void> {
  const res = await fetch(`${h.sluice.adminUrl}/v1/services/predict/rollouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ candidate: 'green', steps: [{ approve: true }], analysis: { interval: '30s', metrics: [] } }),
  });
  expect(res.status).toBe(201);
  // The controller moves it to its approval step at once; from there it waits for a person.
  await vi.waitFor(() => expect(h.sluice.store.current().rollouts?.['predict']?.phase).toBe('awaiting-approval'));
}

it('set-weights and promote during a rollout are refused with the message and exit 1; --force aborts the rollout and says so', async () => {
  await startRollout();
  const revision = h.sluice.store.current().revision;
  const refused = await h.run('set-weights', 'predict', 'blue=90', 'green=10');
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/^sluice: SLUICE_ROLLOUT_IN_PROGRESS: Service "predict" has an active rollout of "green".* With sluice: repeat with --force\.\n$/);
  const promote = await h.run('promote', 'predict', 'green');
  expect(promote.code).toBe(1);
  expect(promote.stderr).toMatch(/SLUICE_ROLLOUT_IN_PROGRESS/);
  expect(h.sluice.store.current().revision).toBe(revision);

  const forced = await h.run('set-weights', 'predict', 'blue=90', 'green=10', '--force');
  expect(forced).toEqual({
    code: 0,
    stdout: `predict: aborted the rollout of green (it was awaiting-approval)\npredict: blue 90, green 10 (stable blue), revision ${revision + 1}\n`,
    stderr: '',
  });
  expect(h.sluice.store.current().rollouts!['predict']!.phase).toBe('aborted');
  expect((await h.run('rollback', 'predict', '--force')).code).toBe(2);
});

it('rollback during a rollout ends it and says so; a change that changes nothing says unchanged', async () => {
  await startRollout();
  const rollback = await h.run('rollback', 'predict');
  expect(rollback.code).toBe(0);
  expect(rollback.stdout).toBe('predict: aborted the rollout of green (it was awaiting-approval)\npredict: blue 100, green 0 (stable blue), revision 4\n');
  expect(await h.run('set-weights', 'predict', 'blue=100')).toEqual({
    code: 0,
    stdout: 'predict: blue 100, green 0 (stable blue), unchanged at revision 4\n',
    stderr: '',
  });
});

it('shadow says when the service has no shadow, and reads one with no answers compared yet', async () => {
  const none = await h.run('shadow', 'predict');
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('sluice: SLUICE_SHADOW_NOT_FOUND: Service "predict" has no shadow');
  const shadowed = { ...predictService(), shadow: { to: 'green', percent: 5, compare: { kind: 'label', path: '/label' } } };
  expect((await h.run('apply', '-f', await h.file('shadowed.json', JSON.stringify(shadowed)))).code).toBe(0);
  const empty = await h.run('shadow', 'predict');
  expect({ code: empty.code, stderr: empty.stderr }).toEqual({ code: 0, stderr: '' });
  expect(empty.stdout.split('\n').slice(0, 2)).toEqual([
    expect.stringMatching(/^predict: shadow green at 5% \(label, \/label\), since \d{4}-/),
    '  no answers compared yet (0 incomparable)',
  ]);
  expect(JSON.parse((await h.run('shadow', 'predict', '--json')).stdout)).toMatchObject({ service: 'predict', to: 'green', samples: 0, agreement: null });
  expect((await h.run('shadow')).stderr).toContain('shadow needs exactly one service');
});
