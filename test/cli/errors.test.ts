// The CLI's failures without a sluice to talk to: unreachable servers, answers that are not
// sluice's, usage mistakes (exit 2 with a short usage), help, and the bearer token on the wire.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { cli } from './cli-harness.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A stand-in admin API answering every request with `status` and `body`, recording the headers. */
async function fakeAdmin(status: number, body: string): Promise<{ url: string; headers: IncomingHttpHeaders[] }> {
  const headers: IncomingHttpHeaders[] = [];
  server = createServer((request, response) => {
    headers.push(request.headers);
    response.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, headers };
}

it('says clearly when nothing listens at the server address (exit 2)', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  expect(await cli(['status'], { SLUICE_SERVER: url })).toEqual({
    code: 2,
    stdout: '',
    stderr: `sluice: cannot reach sluice at ${url}: connection refused — is \`sluice serve\` running?\n`,
  });
  const named = await cli(['rollback', 'predict', '--server', 'http://no-such-host.invalid:9000']);
  expect(named.code).toBe(2);
  expect(named.stderr).toMatch(/^sluice: cannot reach sluice at http:\/\/no-such-host\.invalid:9000: .+ — check --server or SLUICE_SERVER\n$/);
});

it('refuses an answer that is not sluice JSON (exit 2)', async () => {
  const { url } = await fakeAdmin(502, '<html>bad gateway</html>');
  const { code, stderr } = await cli(['rollback', 'predict', '--server', url]);
  expect(code).toBe(2);
  expect(stderr).toBe(`sluice: ${url} answered POST /v1/services/predict/rollback with HTTP 502 and no JSON: is it sluice's admin API?\n`);
});

it('sends the token as a bearer token, from --token, SLUICE_TOKEN or SLUICE_ADMIN_TOKEN, and If-Match', async () => {
  const { url, headers } = await fakeAdmin(200, JSON.stringify({ revision: 3, name: 'predict', weights: { blue: 100 }, stable: 'blue' }));
  expect((await cli(['rollback', 'predict', '--if-match', '2'], { SLUICE_SERVER: `${url}/`, SLUICE_TOKEN: 'from-env' })).code).toBe(0);
  expect((await cli(['promote', 'predict', 'blue', '--server', url, '--token', 'from-flag'], { SLUICE_TOKEN: 'from-env' })).code).toBe(0);
  expect((await cli(['rollback', 'predict', '--server', url], { SLUICE_ADMIN_TOKEN: 'server-variable' })).code).toBe(0);
  expect(headers.map((h) => [h['authorization'], h['if-match']])).toEqual([
    ['Bearer from-env', '"2"'],
    ['Bearer from-flag', undefined],
    ['Bearer server-variable', undefined],
  ]);
});

it('says how to give the token when the server asks for one', async () => {
  const refusal = { error: { code: 'SLUICE_UNAUTHORIZED', message: 'The call needs the admin token.' } };
  const { url } = await fakeAdmin(401, JSON.stringify(refusal));
  const { code, stdout, stderr } = await cli(['rollback', 'predict', '--server', url, '--json']);
  expect(code).toBe(1);
  expect(JSON.parse(stdout)).toEqual(refusal);
  expect(stderr).toBe('sluice: SLUICE_UNAUTHORIZED: The call needs the admin token. Give the token with --token or SLUICE_TOKEN.\n');
  expect((await cli(['rollback', 'predict', '--server', url, '--token', 'wrong'])).stderr).toBe(
    'sluice: SLUICE_UNAUTHORIZED: The call needs the admin token.\n',
  );
});

it.each([
  [[], 'no command given'],
  [['frobnicate'], 'unknown command "frobnicate"'],
  [['--json', 'serve'], '"serve" comes first: sluice serve [options]'],
  [['status', '--verbose'], "Unknown option '--verbose'"],
  [['status', 'a', 'b'], 'status takes at most one service name'],
  [['status', '--if-match', '3'], 'status takes no --if-match'],
  [['promote', 'predict'], 'promote needs a service and a version'],
  [['set-weights', 'predict'], 'set-weights needs a service and at least one VERSION=PERCENT'],
  [['set-weights', 'predict', 'blue:90'], '"blue:90" is not VERSION=PERCENT (e.g. green=10)'],
  [['set-weights', 'predict', 'blue=50', 'blue=50'], 'version "blue" is given twice'],
  [['rollback', 'predict', '--if-match', 'abc'], '--if-match must be a revision number, not "abc"'],
  [['rollback', 'predict', '-f', 'x.yaml'], 'rollback takes no -f FILE'],
  [['diff'], 'diff needs -f FILE'],
  [['status', '--server', 'localhost:9000'], '--server must be an http:// or https:// URL, not "localhost:9000"'],
])('usage error %j: exit 2 with a short usage', async (argv, message) => {
  const { code, stdout, stderr } = await cli(argv);
  expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
  expect(stderr.split('\n')[0]).toContain(`sluice: ${message}`);
  expect(stderr).toContain('\nusage: sluice ');
  expect(stderr).toContain('run `sluice help` for every command and option');
});

it('prints the whole usage for help, and one command for --help', async () => {
  const help = await cli(['help']);
  expect(help.code).toBe(0);
  for (const verb of ['status [SERVICE]', 'set-weights SERVICE', 'promote', 'rollback', 'apply -f FILE', 'diff -f FILE', 'serve', 'demo', '--xds-port', 'exit codes']) {
    expect(help.stdout).toContain(verb);
  }
  expect(await cli(['--help'])).toEqual(help);
  const one = await cli(['set-weights', '--help']);
  expect(one.code).toBe(0);
  expect(one.stdout).toContain('usage: sluice set-weights SERVICE VERSION=PERCENT... [--server URL] [--token TOKEN] [--json] [--if-match REV]');
  expect(await cli(['help', 'set-weights'])).toEqual(one);
});
