// StateAdapter on an embedded SQLite file (better-sqlite3, WAL): one row per revision holding the
// full state and its audit entry, written in one transaction per commit (which also drops the
// states of revisions past the retention, keeping their audit columns); versioned migrations.
// One process per file (state-file-lock.ts). Storage only: the rows' meaning is the store's business.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DesiredState } from '../model/types.js';
import { holdStateFile } from './state-file-lock.js';
import type { StoreChange } from './changes.js';
import { pruneBelow, type AdapterOptions, type AuditEntry, type AuditQuery, type CommitEntry, type CommitResult, type LoadedState, type StateAdapter } from './state-adapter.js';

/** Applied in order, each once; append new steps, never edit old ones. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE revisions (
     revision   INTEGER PRIMARY KEY,
     state      TEXT NOT NULL,
     actor      TEXT NOT NULL,
     change     TEXT NOT NULL,
     summary    TEXT NOT NULL,
     created_at TEXT NOT NULL
   )`,
  // A revision's state may be dropped by the retention (NULL) while its audit entry stays.
  `CREATE TABLE revisions_v2 (
     revision   INTEGER PRIMARY KEY,
     state      TEXT,
     actor      TEXT NOT NULL,
     change     TEXT NOT NULL,
     summary    TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   INSERT INTO revisions_v2 (revision, state, actor, change, summary, created_at)
     SELECT revision, state, actor, change, summary, created_at FROM revisions;
   DROP TABLE revisions;
   ALTER TABLE revisions_v2 RENAME TO revisions;`,
  // The retention's prune on each commit looks only at revisions whose state is still kept.
  `CREATE INDEX revisions_kept ON revisions (revision) WHERE state IS NOT NULL;`,
];

interface RevisionRow {
  revision: number;
  actor: string;
  change: string;
  summary: string;
  created_at: string;
}

function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             applied_at TEXT NOT NULL
           )`);
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  const applied = row.version ?? 0;
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  MIGRATIONS.slice(applied).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      record.run(applied + i + 1, new Date().toISOString());
    })();
  });
}

function toAuditEntry(row: RevisionRow): AuditEntry {
  return {
    revision: row.revision,
    actor: row.actor,
    at: row.created_at,
    change: JSON.parse(row.change) as StoreChange,
    summary: row.summary,
  };
}

export class SqliteAdapter implements StateAdapter {
  private readonly latestState: Database.Statement<[], { state: string }>;
  private readonly stateOf: Database.Statement<[number], { state: string | null }>;
  private readonly prune: Database.Statement<[number]>;
  private readonly latestRevision: Database.Statement<[], { revision: number | null }>;
  private readonly insert: Database.Statement<[Record<string, string | number>]>;
  private readonly auditPage: Database.Statement<[number, number], RevisionRow>;
  private readonly commitTx: (entry: CommitEntry) => CommitResult;

  private constructor(
    private readonly db: Database.Database,
    private readonly releaseFile: () => void,
    options: AdapterOptions,
  ) {
    this.latestState = db.prepare('SELECT state FROM revisions ORDER BY revision DESC LIMIT 1');
    this.stateOf = db.prepare('SELECT state FROM revisions WHERE revision = ?');
    this.prune = db.prepare('UPDATE revisions SET state = NULL WHERE revision < ? AND state IS NOT NULL');
    this.latestRevision = db.prepare('SELECT MAX(revision) AS revision FROM revisions');
    this.insert = db.prepare(
      `INSERT INTO revisions (revision, state, actor, change, summary, created_at)
       VALUES (@revision, @state, @actor, @change, @summary, @at)`,
    );
    this.auditPage = db.prepare(
      `SELECT revision, actor, change, summary, created_at FROM revisions
       WHERE revision < ? ORDER BY revision DESC LIMIT ?`,
    );
    this.commitTx = db.transaction((entry: CommitEntry): CommitResult => {
      const latest = this.latestRevision.get()?.revision ?? 0;
      if (entry.revision <= latest) return 'conflict';
      if (entry.revision !== latest + 1) {
        throw new Error(`Cannot commit revision ${entry.revision}: the database is at revision ${latest}.`);
      }
      this.insert.run({
        revision: entry.revision,
        state: JSON.stringify(entry.state),
        actor: entry.actor,
        change: JSON.stringify(entry.change),
        summary: entry.summary,
        at: entry.at,
      });
      this.prune.run(pruneBelow(entry.revision, options.revisionRetention));
      return 'committed';
    });
  }

  /** Opens (creating if needed) the database file; `:memory:` gives a throwaway database. */
  static open(file: string, options: AdapterOptions = {}): SqliteAdapter {
    const inMemory = file === ':memory:';
    if (!inMemory) mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file, { timeout: 0 });
    let release = (): void => undefined;
    try {
      // Before anything else touches the file: one sluice process per state file.
      if (!inMemory) release = holdStateFile(db, file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteAdapter(db, release, options);
  }

  async load(): Promise<LoadedState | undefined> {
    const row = this.latestState.get();
    return row === undefined ? undefined : { state: JSON.parse(row.state) as DesiredState };
  }

  /** One transaction: the revision must directly follow the latest stored one (taken: `conflict`). */
  async commit(entry: CommitEntry): Promise<CommitResult> {
    return this.commitTx(entry);
  }

  async audit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.auditPage.all(query.before ?? Number.MAX_SAFE_INTEGER, query.limit).map(toAuditEntry);
  }

  async stateAt(revision: number): Promise<DesiredState | 'pruned' | undefined> {
    const row = this.stateOf.get(revision);
    if (row === undefined) return undefined;
    return row.state === null ? 'pruned' : (JSON.parse(row.state) as DesiredState);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.releaseFile();
    this.db.close();
  }
}
