import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres } from './postgres-server.js';

describe('throwaway PostgreSQL server', () => {
  it('starts, answers queries, pauses and resumes with its data, and stops', async () => {
    const server = await startPostgres();
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      await client.query('CREATE TABLE t (v int)');
      await client.query('INSERT INTO t VALUES (42)');
      await client.end();
      await server.pause();
      await expect(new pg.Client({ connectionString: server.url }).connect()).rejects.toThrow();
      await server.start();
      const again = new pg.Client({ connectionString: server.url });
      await again.connect();
      expect((await again.query('SELECT v FROM t')).rows).toEqual([{ v: 42 }]);
      await again.end();
    } finally {
      await server.stop();
    }
  }, 60_000);
});
