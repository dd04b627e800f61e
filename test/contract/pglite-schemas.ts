import { afterAll } from 'vitest';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';

/**
 * Starting PGlite costs over a second, so a test file shares one instance and each store gets its
 * own schema: a client whose close drops that schema.
 */
export function pgliteSchemas(prefix: string): () => Promise<SqlClient> {
  const shared = createPgliteClient();
  let schemas = 0;
  afterAll(async () => (await shared).close());
  return async () => {
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
