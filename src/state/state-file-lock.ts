// Holds a SQLite state file for the whole life of one sluice process, so a second process on the
// same file refuses to start instead of both driving the same rollouts. The lock is SQLite's own
// exclusive lock (the OS drops it if the process dies); a side file `<state>.owner` only says who
// holds it. Touches no table of the database.

import { hostname } from 'node:os';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StartupError } from '../startup.js';

interface Owner {
  pid: number;
  host: string;
  since: string;
}

function ownerFile(file: string): string {
  return `${file}.owner`;
}

function describeOwner(file: string): string {
  try {
    const owner = JSON.parse(readFileSync(ownerFile(file), 'utf8')) as Owner;
    return `another sluice (pid ${owner.pid} on ${owner.host}, running since ${owner.since})`;
  } catch {
    return 'another process';
  }
}

function isBusy(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'SQLITE_BUSY';
}

/**
 * Takes the file's exclusive lock for as long as `db` stays open, or throws a StartupError naming
 * the file and its holder. Returns what to call just before closing `db`.
 */
export function holdStateFile(db: Database.Database, file: string): () => void {
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The lock is taken by the first write and then kept until the connection closes.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    if (!isBusy(error)) throw error;
    throw new StartupError(
      `the state file ${file} is in use by ${describeOwner(file)}. Stop that one, or give this one its own file ` +
        'with --state (SLUICE_STATE); replicas that share one state use --store postgres://… instead.',
    );
  }
  const owner: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  writeFileSync(ownerFile(file), `${JSON.stringify(owner)}\n`);
  return () => rmSync(ownerFile(file), { force: true });
}
