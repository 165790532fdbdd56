// `apply -f FILE` against sluice running in this process: one service body in JSON, a bundle of
// listeners and services in YAML, refused or unreadable files, and --force over an active rollout.

import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { predictService, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;

beforeEach(async () => {
  h = await startCliHarness();
});

afterEach(async () => {
  await h.stop();
});

const BUNDLE_YAML = `
listeners:
  edge:
    port: 8081
services:
  predict:
    listener: edge
    match: { prefix: /predict }
    versions:
      - name: blue
        endpoints: [{ address: 127.0.0.1, port: 5001 }]
      - name: green
        endpoints: [{ address: 127.0.0.1, port: 5002 }]
    weights: { blue: 80, green: 20 }
    stable: blue
`;

it('applies one service body from a JSON file', async () => {
  const file = await h.file('predict.json', JSON.stringify(predictService({ blue: 90, green: 10 })));
  expect(await h.run('apply', '-f', file)).toEqual({ code: 0, stdout: 'service predict: applied, revision 1\n', stderr: '' });
  expect(h.sluice.store.current().services['predict']?.weights).toEqual({ blue: 90, green: 10 });
});

it('applies listeners before services from a YAML bundle, one revision each', async () => {
  const file = await h.file('bundle.yaml', BUNDLE_YAML);
  const { code, stdout } = await h.run('apply', '-f', file);
  expect(code).toBe(0);
  expect(stdout).toBe('listener edge: applied, revision 1\nservice predict: applied, revision 2\n');
  const state = h.sluice.store.current();
  expect(state.listeners['edge']).toEqual({ name: 'edge', address: '0.0.0.0', port: 8081 });
  expect(state.services['predict']).toMatchObject({ listener: 'edge', weights: { blue: 80, green: 20 } });
});

it('--json prints the server answers in the shape of the file', async () => {
  const single = await h.run('apply', '--json', '-f', await h.file('predict.yml', JSON.stringify(predictService())));
  expect(JSON.parse(single.stdout)).toMatchObject({ revision: 1, name: 'predict' });
  const bundle = await h.run('apply', '--json', '-f', await h.file('bundle.yaml', BUNDLE_YAML), '--if-match', '1');
  expect(bundle.code).toBe(0);
  expect(JSON.parse(bundle.stdout)).toMatchObject({
    listeners: { edge: { revision: 2, port: 8081 } },
    services: { predict: { revision: 3, listener: 'edge' } },
  });
});

it('points a refusal at the field in the file and says what stayed applied', async () => {
  const file = await h.file('bad.yaml', BUNDLE_YAML.replace('green: 20', 'green: 25'));
  const { code, stdout, stderr } = await h.run('apply', '-f', file);
  expect(code).toBe(1);
  expect(stdout).toBe('listener edge: applied, revision 1\n');
  expect(stderr).toBe(
    'sluice: service predict: SLUICE_WEIGHTS_SUM at /services/predict/weights: Weights must sum to exactly 100; they sum to 105. (already applied: listener edge)\n',
  );
  const typo = await h.run('apply', '-f', await h.file('typo.json', JSON.stringify({ ...predictService(), wieghts: {} })));
  expect(typo.code).toBe(1);
  expect(typo.stderr).toBe('sluice: service predict: SLUICE_INVALID_BODY at /wieghts: Unknown field "/wieghts".\n');
});

it('refuses a file it cannot use before calling the server (exit 2)', async () => {
  const unnamed = await h.run('apply', '-f', await h.file('unnamed.json', JSON.stringify({ ...predictService(), name: undefined })));
  expect(unnamed.code).toBe(2);
  expect(unnamed.stderr).toMatch(/unnamed\.json: a service body needs its name in a "name" field/);
  const missing = await h.run('apply', '-f', `${h.dir}/nope.yaml`);
  expect(missing).toMatchObject({ code: 2, stderr: `sluice: ${h.dir}/nope.yaml: no such file\n` });
  const broken = await h.run('apply', '-f', await h.file('broken.json', '{"name": '));
  expect(broken.code).toBe(2);
  expect(broken.stderr).toContain('broken.json: not valid JSON');
  const noFile = await h.run('apply');
  expect(noFile.code).toBe(2);
  expect(noFile.stderr).toBe(
    'sluice: apply needs -f FILE\n\nusage: sluice apply -f FILE [--server URL] [--token TOKEN] [--json] [--if-match REV] [--force]\nrun `sluice help` for every command and option\n',
  );
  expect(h.sluice.store.current().revision).toBe(0);
});

it('a replacement that would abort an active rollout is refused (exit 1, "repeat with --force"); --force aborts it and says so', async () => {
  expect((await h.run('apply', '-f', await h.file('predict.json', JSON.stringify(predictService())))).code).toBe(0);
  const started = await fetch(`${h.sluice.adminUrl}/v1/services/predict/rollouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ candidate: 'green', steps: [{ approve: true }], analysis: { interval: '30s', metrics: [] } }),
  });
  expect(started.status).toBe(201);
  await vi.waitFor(() => expect(h.sluice.store.current().rollouts?.['predict']?.phase).toBe('awaiting-approval'));
  const revision = h.sluice.store.current().revision;
  const bundle = await h.file('bundle.yaml', BUNDLE_YAML);

  const refused = await h.run('apply', '-f', bundle);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe(`listener edge: applied, revision ${revision + 1}\n`);
  expect(refused.stderr).toMatch(
    /^sluice: service predict: SLUICE_ROLLOUT_IN_PROGRESS at \/services\/predict: Service "predict" has an active rollout of "green".* With sluice: repeat with --force\. \(already applied: listener edge\)\n$/,
  );
  expect(h.sluice.store.current().services['predict']?.weights).toEqual({ blue: 100, green: 0 });

  const forced = await h.run('apply', '-f', bundle, '--force');
  expect(forced).toEqual({
    code: 0,
    stdout: `listener edge: applied, revision ${revision + 1}\nservice predict: applied, revision ${revision + 2}; aborted the rollout of green (it was awaiting-approval)\n`,
    stderr: '',
  });
  expect(h.sluice.store.current().rollouts!['predict']!.phase).toBe('aborted');
  expect(h.sluice.store.current().services['predict']?.weights).toEqual({ blue: 80, green: 20 });
});

it('--dry-run shows what the server would change and changes nothing; --name names a body without one', async () => {
  const file = await h.file('unnamed.json', JSON.stringify({ ...predictService(), name: undefined }));
  const before = await fetch(`${h.sluice.adminUrl}/v1/revisions?limit=1`).then((r) => r.json());
  const preview = await h.run('apply', '-f', file, '--name', 'predict', '--dry-run');
  expect(preview.stderr).toBe('');
  expect(preview.code).toBe(0);
  expect(preview.stdout).toContain('\n+ cluster predict_blue\n');
  expect(preview.stdout).not.toContain('--if-match 0');
  expect(await fetch(`${h.sluice.adminUrl}/v1/revisions?limit=1`).then((r) => r.json())).toEqual(before);
  expect((await fetch(`${h.sluice.adminUrl}/v1/services/predict`)).status).toBe(404);

  const applied = await h.run('apply', '-f', file, '--name', 'predict');
  expect(applied.code).toBe(0);
  expect(applied.stdout).toMatch(/^service predict: applied, revision \d+\n$/);
  // Now the same file changes nothing.
  const again = await h.run('apply', '-f', file, '--name', 'predict', '--dry-run');
  expect(again.stdout).toMatch(/^no change to Envoy's resources/);
});
