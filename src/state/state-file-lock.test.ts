// One process per SQLite state file: a second open of a held file is refused with a message that
// names the file and its holder, and nothing of the file changes; closing releases it.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StartupError } from '../startup.js';
import { SqliteAdapter } from './sqlite-adapter.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the state file lock', () => {
  it('refuses a second holder, naming the file and the process that holds it', async () => {
    const file = join(dir, 'sluice.db');
    const first = SqliteAdapter.open(file);
    let refusal: unknown;
    try {
      SqliteAdapter.open(file);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(StartupError);
    const message = (refusal as Error).message;
    expect(message).toContain(file);
    expect(message).toContain(`pid ${process.pid} on ${hostname()}`);
    expect(message).toContain('--state');
    // The refused open changed nothing: the holder still reads and writes.
    expect(await first.load()).toBeUndefined();
    await first.close();
    expect(existsSync(`${file}.owner`)).toBe(false);
  });

  it('is released on close, so the next process opens the file', async () => {
    const file = join(dir, 'nested', 'sluice.db');
    await SqliteAdapter.open(file).close();
    const again = SqliteAdapter.open(file);
    expect(existsSync(`${file}.owner`)).toBe(true);
    await again.close();
  });

  it('leaves throwaway in-memory databases alone', async () => {
    const a = SqliteAdapter.open(':memory:');
    const b = SqliteAdapter.open(':memory:');
    await Promise.all([a.close(), b.close()]);
  });
});
