// StateAdapter on PostgreSQL for replicas sharing one desired state: one row per revision, migrations
// under an advisory lock, NOTIFY on each commit as a doorbell (readers catch up with `load`; the
// listening connection reconnects until closed), the states of revisions past the retention
// dropped on commit (their audit entries kept), leases and each replica's report of its proxies.
// A lost database is a rejection or an `onError`, never a crash. Storage only.

import pg from 'pg';
import type { DesiredState } from '../model/types.js';
import type { StoreChange } from './changes.js';
import { pruneBelow, type AdapterOptions, type AuditEntry, type AuditQuery, type CommitEntry, type CommitResult, type LoadedState, type StateAdapter } from './state-adapter.js';

export const REVISION_CHANNEL = 'sluice_revisions';
export const PROXIES_CHANNEL = 'sluice_proxies';
/** Arbitrary but fixed: the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK = 0x51c3;
/** SQLSTATE unique_violation; on this constraint: another replica committed the same revision. */
const UNIQUE_VIOLATION = '23505';
const REVISIONS_KEY = 'revisions_pkey';
/** A connection attempt that hangs (an unreachable host) fails after this long. */
const CONNECT_TIMEOUT_MS = 5000;
/** Delays between attempts to reconnect the listening connection: doubling, reset on success. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5000;

/** Applied in order, each once; append new steps, never edit old ones. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE revisions (
     revision   BIGINT PRIMARY KEY,
     state      JSONB NOT NULL,
     actor      TEXT NOT NULL,
     change     JSONB NOT NULL,
     summary    TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE FUNCTION sluice_notify_revision() RETURNS trigger AS $$
   BEGIN
     PERFORM pg_notify('${REVISION_CHANNEL}', NEW.revision::text);
     RETURN NEW;
   END;
   $$ LANGUAGE plpgsql;
   CREATE TRIGGER revisions_notify AFTER INSERT ON revisions
     FOR EACH ROW EXECUTE FUNCTION sluice_notify_revision();`,
  `CREATE TABLE leases (
     name       TEXT PRIMARY KEY,
     holder     TEXT NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL
   );`,
  `CREATE TABLE proxy_reports (
     replica    TEXT PRIMARY KEY,
     proxies    JSONB NOT NULL,
     updated_at TIMESTAMPTZ NOT NULL
   );
   CREATE FUNCTION sluice_notify_proxies() RETURNS trigger AS $$
   BEGIN
     PERFORM pg_notify('${PROXIES_CHANNEL}', '');
     RETURN NULL;
   END;
   $$ LANGUAGE plpgsql;
   CREATE TRIGGER proxy_reports_notify AFTER INSERT OR UPDATE OR DELETE ON proxy_reports
     FOR EACH STATEMENT EXECUTE FUNCTION sluice_notify_proxies();`,
  // A revision's state may be dropped by the retention (NULL) while its audit entry stays.
  `ALTER TABLE revisions ALTER COLUMN state DROP NOT NULL;`,
  // The retention's prune on each commit looks only at revisions whose state is still kept.
  `CREATE INDEX revisions_kept ON revisions (revision) WHERE state IS NOT NULL;`,
];

interface RevisionRow {
  revision: string;
  actor: string;
  change: StoreChange;
  summary: string;
  created_at: string;
}

function toAuditEntry(row: RevisionRow): AuditEntry {
  return { revision: Number(row.revision), actor: row.actor, at: row.created_at, change: row.change, summary: row.summary };
}

/**
 * Runs `work` in one transaction on one connection: committed if it returns, rolled back if it
 * throws. A checked-out client has no 'error' listener of pg-pool's: when the server ends the
 * connection it would emit an unheard 'error' and crash the process, so it is heard here (the
 * query in flight rejects anyway) and the lost connection is dropped rather than pooled again.
 */
async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error): void => {
    lost ??= error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (lost === undefined) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(lost);
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
    const { rows } = await client.query<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
    const applied = rows[0]?.version ?? 0;
    for (const [i, sql] of MIGRATIONS.slice(applied).entries()) {
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [applied + i + 1, new Date().toISOString()]);
    }
  });
}

export class PostgresAdapter implements StateAdapter {
  /** The listening connection while it is up. */
  private listener: pg.Client | undefined;
  /** Set by `watch`: who hears commits and a lost listening connection. */
  private watcher: { onCommit: () => void; onError: (error: Error) => void } | undefined;
  /** An attempt to open the listening connection, while it runs. */
  private connecting: Promise<pg.Client | undefined> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_FIRST_MS;
  private closed = false;
  private readonly proxyListeners = new Set<() => void>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly options: AdapterOptions,
  ) {}

  /** Connects, and migrates the schema (safe when several replicas start at once). */
  static async open(connectionString: string, options: AdapterOptions = {}): Promise<PostgresAdapter> {
    const pool = new pg.Pool({ connectionString, max: 4, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
    // An idle client whose connection died: the pool drops it and connects anew when asked.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresAdapter(pool, connectionString, options);
  }

  async load(): Promise<LoadedState | undefined> {
    const { rows } = await this.pool.query<{ state: DesiredState }>('SELECT state FROM revisions ORDER BY revision DESC LIMIT 1');
    return rows[0] === undefined ? undefined : { state: rows[0].state };
  }

  /**
   * One transaction: `conflict` when the revision is taken, whether seen before inserting or
   * raced for (the primary key refuses the second insert once the first commits).
   */
  async commit(entry: CommitEntry): Promise<CommitResult> {
    try {
      return await inTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ revision: string | null }>('SELECT MAX(revision) AS revision FROM revisions');
        const latest = Number(rows[0]?.revision ?? 0);
        if (entry.revision <= latest) return 'conflict';
        if (entry.revision !== latest + 1) {
          throw new Error(`Cannot commit revision ${entry.revision}: the database is at revision ${latest}.`);
        }
        await client.query(
          'INSERT INTO revisions (revision, state, actor, change, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [entry.revision, JSON.stringify(entry.state), entry.actor, JSON.stringify(entry.change), entry.summary, entry.at],
        );
        await client.query('UPDATE revisions SET state = NULL WHERE revision < $1 AND state IS NOT NULL', [
          pruneBelow(entry.revision, this.options.revisionRetention),
        ]);
        return 'committed';
      });
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === UNIQUE_VIOLATION && error.constraint === REVISIONS_KEY) return 'conflict';
      throw error;
    }
  }

  async audit(query: AuditQuery): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<RevisionRow>(
      'SELECT revision, actor, change, summary, created_at FROM revisions WHERE revision < $1 ORDER BY revision DESC LIMIT $2',
      [query.before ?? Number.MAX_SAFE_INTEGER, query.limit],
    );
    return rows.map(toAuditEntry);
  }

  async stateAt(revision: number): Promise<DesiredState | 'pruned' | undefined> {
    const { rows } = await this.pool.query<{ state: DesiredState | null }>('SELECT state FROM revisions WHERE revision = $1', [revision]);
    if (rows[0] === undefined) return undefined;
    return rows[0].state ?? 'pruned';
  }

  /**
   * Takes or renews the lease `name` for `holder` for `ttlMs` (the database's clock decides);
   * true when `holder` holds it now. A lease held by another is taken only once it expired.
   */
  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ holder: string }>(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
       RETURNING holder`,
      [name, holder, ttlMs],
    );
    return rows[0]?.holder === holder;
  }

  /** Gives the lease up at once (a replica stopping cleanly), so another takes over without waiting. */
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.pool.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  /** Replaces what this replica reports about the proxies connected to it. */
  async publishProxies(replica: string, proxies: unknown[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO proxy_reports (replica, proxies, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (replica) DO UPDATE SET proxies = EXCLUDED.proxies, updated_at = EXCLUDED.updated_at`,
      [replica, JSON.stringify(proxies)],
    );
  }

  /** The proxies other replicas reported within `maxAgeMs` (older reports: a replica that died). */
  async proxiesOfOthers(replica: string, maxAgeMs: number): Promise<{ replica: string; proxies: unknown[] }[]> {
    const { rows } = await this.pool.query<{ replica: string; proxies: unknown[] }>(
      `SELECT replica, proxies FROM proxy_reports WHERE replica <> $1 AND updated_at > now() - $2 * interval '1 millisecond' ORDER BY replica`,
      [replica, maxAgeMs],
    );
    return rows;
  }

  async removeProxies(replica: string): Promise<void> {
    await this.pool.query('DELETE FROM proxy_reports WHERE replica = $1', [replica]);
  }

  /** Calls `listener` whenever any replica reports its proxies (needs `watch`). */
  onProxies(listener: () => void): () => void {
    this.proxyListeners.add(listener);
    return () => this.proxyListeners.delete(listener);
  }

  /**
   * Calls `onCommit` after another connection commits, and after every (re)connect of the
   * listening connection, since notifications sent meanwhile are lost: the caller then catches up
   * with `load` (proxy listeners are called then too). The first connection must succeed; a lost
   * one is reported to `onError` and reconnected with backoff until `close`, each failed attempt
   * reported too.
   */
  async watch(onCommit: () => void, onError: (error: Error) => void): Promise<void> {
    if (this.watcher) throw new Error('This PostgreSQL adapter is watched already.');
    this.watcher = { onCommit, onError };
    await this.listen();
  }

  /** Opens the listening connection and catches up; a failed attempt leaves no client behind. */
  private async listen(): Promise<void> {
    const attempt = this.openListener();
    this.connecting = attempt;
    let client: pg.Client | undefined;
    try {
      client = await attempt;
    } finally {
      this.connecting = undefined;
    }
    if (client === undefined) return;
    this.listener = client;
    this.reconnectDelay = RECONNECT_FIRST_MS;
    this.watcher?.onCommit();
    for (const listener of this.proxyListeners) listener();
  }

  /** A connected client listening on both channels, or undefined if the adapter closed meanwhile. */
  private async openListener(): Promise<pg.Client | undefined> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
    // Heard from before connecting to the end of the client's life: no error of it goes unheard.
    client.on('error', (error) => this.listenerLost(client, error));
    client.on('notification', (message) => {
      if (message.channel === PROXIES_CHANNEL) for (const listener of this.proxyListeners) listener();
      else this.watcher?.onCommit();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVISION_CHANNEL}`);
      await client.query(`LISTEN ${PROXIES_CHANNEL}`);
    } catch (error) {
      // Not awaited: ending a connection that never opened must not hold up the next attempt.
      void client.end().catch(() => undefined);
      throw error;
    }
    if (!this.closed) return client;
    await client.end().catch(() => undefined);
    return undefined;
  }

  /** The listening connection died: report it once, drop it and reconnect. */
  private listenerLost(client: pg.Client, error: Error): void {
    // Errors of an attempt still connecting reject that attempt; a dead client may emit twice.
    if (client !== this.listener) return;
    this.listener = undefined;
    void client.end().catch(() => undefined);
    this.watcher?.onError(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.listen().catch((error: Error) => {
        if (this.closed) return;
        this.watcher?.onError(error);
        this.scheduleReconnect();
      });
    }, delay);
  }

  /** Stops reconnecting, ends the listening connection (or the attempt under way) and the pool. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting?.catch(() => undefined);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
