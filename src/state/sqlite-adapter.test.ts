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
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    // The retention's prune reads only the revisions whose state is still kept.
    const plan = db.prepare('EXPLAIN QUERY PLAN UPDATE revisions SET state = NULL WHERE revision < ? AND state IS NOT NULL').all(5);
    expect(JSON.stringify(plan)).toContain('USING INDEX revisions_kept');
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

  it('drops the states of revisions past the retention on commit, keeping every audit entry', async () => {
    const adapter = SqliteAdapter.open(file, { revisionRetention: 2 });
    for (let revision = 1; revision <= 5; revision++) expect(await adapter.commit(entry(revision))).toBe('committed');
    // 5 is the newest: it and the two revisions before it keep their states.
    expect(await adapter.stateAt(1)).toBe('pruned');
    expect(await adapter.stateAt(2)).toBe('pruned');
    for (const revision of [3, 4, 5]) expect(await adapter.stateAt(revision)).toEqual(entry(revision).state);
    expect(await adapter.stateAt(6)).toBeUndefined();
    expect((await adapter.load())?.state).toEqual(entry(5).state);
    const audit = await adapter.audit({ limit: 10 });
    expect(audit.map((e) => e.revision)).toEqual([5, 4, 3, 2, 1]);
    expect(audit[4]).toEqual({ revision: 1, actor: 'test', at: new Date(0).toISOString(), change: entry(1).change, summary: 's' });
    await adapter.close();
    // Without a retention nothing more is dropped; a lower one drops more at the next commit.
    const again = SqliteAdapter.open(file, { revisionRetention: 1 });
    await again.commit(entry(6));
    expect(await again.stateAt(4)).toBe('pruned');
    expect(await again.stateAt(5)).toEqual(entry(5).state);
    await again.close();
  });

  it('keeps the revisions of a database made before states could be dropped', async () => {
    const db = new Database(file);
    db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
             CREATE TABLE revisions (revision INTEGER PRIMARY KEY, state TEXT NOT NULL, actor TEXT NOT NULL,
               change TEXT NOT NULL, summary TEXT NOT NULL, created_at TEXT NOT NULL);
             INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000Z');`);
    const e = entry(1);
    db.prepare('INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?)').run(1, JSON.stringify(e.state), e.actor, JSON.stringify(e.change), e.summary, e.at);
    db.close();
    const adapter = SqliteAdapter.open(file, { revisionRetention: 1 });
    expect(await adapter.stateAt(1)).toEqual(e.state);
    await adapter.commit(entry(2));
    await adapter.commit(entry(3));
    expect(await adapter.stateAt(1)).toBe('pruned');
    expect((await adapter.audit({ limit: 10 })).map((a) => a.revision)).toEqual([3, 2, 1]);
    await adapter.close();
  });
});
