// What a person sees when `sluice serve` cannot start: a second process on a state file another
// one holds, a port already taken. Each refusal is one line naming what to change, exit code 2,
// no stack trace and no log noise; and the process that was there first keeps serving.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSluice, startSluiceProcess } from '../support/sluice-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-refusals-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function occupy(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

function expectOneLineRefusal(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^sluice: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('a second sluice on one SQLite state file', () => {
  it('refuses to start, naming the file and the process holding it; the first one keeps serving', async () => {
    const first = await startSluiceProcess({ args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--state', 'shared.db'], cwd: dir });
    try {
      const second = await runSluice(['serve', '--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--state', 'shared.db'], { cwd: dir });
      const line = expectOneLineRefusal(second);
      expect(line).toContain('the state file shared.db is in use');
      expect(line).toContain(`pid ${first.child.pid}`);
      expect(line).toContain('--state');

      const put = await fetch(`${first.adminUrl}/v1/listeners/edge`, { method: 'PUT', body: JSON.stringify({ port: 8082 }) });
      expect(put.status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    // Once the first has stopped, the file is free again, with what the first wrote.
    const third = await startSluiceProcess({ args: ['--xds-host', '127.0.0.1', '--xds-port', '0', '--admin-port', '0', '--state', 'shared.db'], cwd: dir });
    try {
      expect((await fetch(`${third.adminUrl}/v1/listeners/edge`)).status).toBe(200);
    } finally {
      await third.stop();
    }
  });
});

describe('a port already in use', () => {
  it.each([
    ['xDS', '--xds-port', '--admin-port'],
    ['admin API', '--admin-port', '--xds-port'],
  ])('names the %s setting to change', async (label, taken, free) => {
    const { server, port } = await occupy();
    try {
      const result = await runSluice(['serve', taken, String(port), free, '0', '--xds-host', '127.0.0.1', '--state', `${label}.db`], { cwd: dir });
      const line = expectOneLineRefusal(result);
      expect(line).toContain(`the ${label} port ${port} on 127.0.0.1 is already in use`);
      expect(line).toContain(taken);
    } finally {
      server.close();
    }
  });
});
