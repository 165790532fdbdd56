// `diff -f FILE` against sluice running in this process: exit 0 when Envoy's resources would not
// change, 1 with the changed resources and JSON paths when they would, 2 on any error. Never
// changes the state.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { freePort } from '../support/ports.js';
import { cli, predictService, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;

beforeEach(async () => {
  h = await startCliHarness();
  expect((await h.run('apply', '-f', await h.file('predict.json', JSON.stringify(predictService())))).code).toBe(0);
});

afterEach(async () => {
  await h.stop();
});

const WEIGHT_PATH = 'virtual_hosts["*"].routes["predict_split"].route.weighted_clusters.clusters';

it('exits 0 when the file changes nothing in Envoy', async () => {
  const file = await h.file('same.yaml', JSON.stringify(predictService()));
  expect(await h.run('diff', '-f', file)).toEqual({ code: 0, stdout: "no change to Envoy's resources (against revision 1)\n", stderr: '' });
});

it('exits 1 and shows the weight paths with old and new values when weights change', async () => {
  const file = await h.file('canary.json', JSON.stringify(predictService({ blue: 90, green: 10 })));
  const { code, stdout, stderr } = await h.run('diff', '-f', file);
  expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
  expect(stdout).toBe(
    [
      `against revision 1 at ${h.sluice.adminUrl}:`,
      '~ route default',
      `    ${WEIGHT_PATH}["predict_blue"].weight: 10000 → 9000`,
      `    ${WEIGHT_PATH}["predict_green"].weight: 0 → 1000`,
      '1 resource differs: 1 changed, 0 added, 0 removed',
      'apply with --if-match 1 to change exactly this',
      '',
    ].join('\n'),
  );
  expect(h.sluice.store.current().revision).toBe(1);
});

it('colours the resource lines only when stdout is a terminal and NO_COLOR is unset', async () => {
  const file = await h.file('canary.json', JSON.stringify(predictService({ blue: 90, green: 10 })));
  const run = async (env: Record<string, string>) => {
    let stdout = '';
    await runCli(['diff', '-f', file], { stdout: { isTTY: true, write: (text: string) => (stdout += text) }, stderr: { write: () => true }, env });
    return stdout;
  };
  expect(await run({ SLUICE_SERVER: h.sluice.adminUrl })).toContain('\u001b[33m~ route default\u001b[0m\n');
  expect(await run({ SLUICE_SERVER: h.sluice.adminUrl, NO_COLOR: '1' })).not.toContain('\u001b[');
});

it('lists added and removed clusters and endpoints, and --json output parses', async () => {
  const withRed = predictService({ blue: 100, red: 0 });
  withRed['versions'] = [
    { name: 'blue', endpoints: [{ address: '127.0.0.1', port: 5001 }] },
    { name: 'red', endpoints: [{ address: '127.0.0.1', port: 5003 }] },
  ];
  const file = await h.file('red.yaml', JSON.stringify(withRed));
  const { code, stdout } = await h.run('diff', '-f', file);
  expect(code).toBe(1);
  expect(stdout).toContain('\n+ cluster predict_red\n');
  expect(stdout).toContain('\n- cluster predict_green\n');
  expect(stdout).toContain('\n+ endpoints predict_red\n');
  expect(stdout).toContain('\n- endpoints predict_green\n');
  expect(stdout).toContain('5 resources differ: 1 changed, 2 added, 2 removed');

  const json = await h.run('diff', '--json', '-f', file);
  expect(json.code).toBe(1);
  const { revision, changes } = JSON.parse(json.stdout);
  expect(revision).toBe(1);
  expect(changes).toContainEqual(expect.objectContaining({ kind: 'cluster', name: 'predict_red', change: 'added' }));
  expect(changes).toContainEqual(expect.objectContaining({ kind: 'route', name: 'default', change: 'changed' }));
});

it('diffs a bundle with a new listener', async () => {
  const file = await h.file('edge.yaml', 'listeners:\n  edge:\n    port: 8081\n');
  const { code, stdout } = await h.run('diff', '-f', file);
  expect(code).toBe(1);
  expect(stdout).toContain('\n+ listener edge\n+ route edge\n');
});

it('previews demo/service.json (no "name": named after the file) and names a service that needs a listener the file adds', async () => {
  await h.sluice.store.apply({ kind: 'deleteService', name: 'predict' }, { actor: 'test' });
  const demo = await h.run('diff', '-f', 'demo/service.json');
  expect(demo.code).toBe(1);
  expect(demo.stdout).toContain('\n+ cluster service_blue\n');
  const bundle = await h.file('edge.yaml', 'listeners:\n  edge:\n    port: 8081\nservices:\n  other:\n    listener: edge\n    match: {prefix: /o}\n    versions: [{name: a, endpoints: [{address: 127.0.0.1, port: 1}]}]\n');
  const { code, stdout } = await h.run('diff', '-f', bundle);
  expect(code).toBe(1);
  expect(stdout).toContain('service other: not previewed: it uses listener edge, which this file adds: apply the listener first\n');
  expect(h.sluice.store.current().revision).toBe(2);
});

it('exits 2 with the code and path of input the server would refuse', async () => {
  const unknownVersion = await h.run('diff', '-f', await h.file('bad.json', JSON.stringify(predictService({ blue: 90, red: 10 }))));
  expect(unknownVersion).toEqual({
    code: 2,
    stdout: '',
    stderr: 'sluice: service predict: SLUICE_UNKNOWN_VERSION at /weights/red: Weight given for "red", which is not a version of this service.\n',
  });
  const typo = await h.run('diff', '-f', await h.file('typo.yaml', 'services:\n  predict:\n    match: {prefix: /p}\n    versions: []\n    wieghts: {}\n'));
  expect(typo.code).toBe(2);
  expect(typo.stderr).toBe('sluice: service predict: SLUICE_INVALID_BODY at /services/predict/wieghts: Unknown field "/wieghts".\n');
  const badType = await h.run('diff', '-f', await h.file('type.json', JSON.stringify({ ...predictService(), versions: {} })));
  expect(badType.stderr).toBe('sluice: service predict: SLUICE_INVALID_BODY at /versions: "/versions" must be a JSON array.\n');
});

it('exits 2 when sluice cannot be reached', async () => {
  const file = await h.file('same.yaml', JSON.stringify(predictService()));
  const server = `http://127.0.0.1:${await freePort()}`;
  const { code, stderr } = await cli(['diff', '-f', file, '--server', server]);
  expect(code).toBe(2);
  expect(stderr).toBe(`sluice: cannot reach sluice at ${server}: connection refused — is \`sluice serve\` running?\n`);
});
