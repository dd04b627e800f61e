import { afterAll } from 'vitest';
import { createPgliteClient } from '../../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../../shared/adapters/sql/sql-client.js';

/**
 * One PGlite per test file (it costs about a second to start, so only once a test asks for it);
 * every store gets its own schema, so rows of one test never reach another. Tests of one file run
 * one after another, so switching search_path is safe.
 */
export function pgliteSchemas(prefix: string): () => Promise<SqlClient> {
  let shared: Promise<SqlClient> | null = null;
  let schemas = 0;
  afterAll(async () => {
    if (shared) await (await shared).close();
    shared = null;
  });
  return async () => {
    shared ??= createPgliteClient();
    const db = await shared;
    const schema = `${prefix}_${++schemas}`;
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`SET search_path TO ${schema}`);
    return {
      query: (sql, params) => db.query(sql, params),
      transaction: (fn) => db.transaction(fn),
      close: async () => {
        await db.query('SET search_path TO public');
        await db.query(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  };
}
