// The SQLite adapter: schema migrations, WAL mode, loading the latest revision, reading a past
// revision's state and refusing out-of-order commits.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DesiredState } from '../model/types.js';
import { SqliteAdapter } from './sqlite-adapter.js';
import type { CommitEntry } from './state-adapter.js';

function entry(revision: number): CommitEntry {
  const state: DesiredState = { revision, listeners: {}, services: {} };
  return { revision, state, actor: 'test', at: new Date(0).toISOString(), change: { kind: 'deleteListener', name: 'x' }, summary: 's' };
}

describe('SqliteAdapter', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
    file = join(dir, 'state.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates its schema once, in WAL mode, and loads nothing from a new file', async () => {
    const adapter = SqliteAdapter.open(file);
    expect(await adapter.load()).toBeUndefined();
    await adapter.close();
    await SqliteAdapter.open(file).close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
    db.close();
  });

  it('loads the latest committed revision', async () => {
    const adapter = SqliteAdapter.open(file);
    await adapter.commit(entry(1));
    await adapter.commit(entry(2));
    expect((await adapter.load())?.state.revision).toBe(2);
    await adapter.close();
  });

  it('reads the state of any committed revision, and nothing for one never committed', async () => {
    const adapter = SqliteAdapter.open(file);
    await adapter.commit(entry(1));
    await adapter.commit(entry(2));
    expect(await adapter.stateAt(1)).toEqual(entry(1).state);
    expect(await adapter.stateAt(2)).toEqual(entry(2).state);
    expect(await adapter.stateAt(0)).toBeUndefined();
    expect(await adapter.stateAt(3)).toBeUndefined();
    await adapter.close();
  });

  it('answers conflict for a revision already taken and refuses one beyond the next, storing nothing', async () => {
    const adapter = SqliteAdapter.open(file);
    expect(await adapter.commit(entry(1))).toBe('committed');
    expect(await adapter.commit(entry(1))).toBe('conflict');
    await expect(adapter.commit(entry(3))).rejects.toThrow(/database is at revision 1/);
    expect((await adapter.audit({ limit: 10 })).map((e) => e.revision)).toEqual([1]);
    await adapter.close();
  });
});
