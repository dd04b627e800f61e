import { afterAll } from 'vitest';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { attemptHistoryContract } from './attempt-history.contract.js';

// One PGlite for the file (starting one costs over a second), each test in its own schema.
const shared = createPgliteClient();
let schemas = 0;
afterAll(async () => (await shared).close());

attemptHistoryContract('sql over in-memory PGlite', async () => {
  const db = await shared;
  const schema = `attempts_${++schemas}`;
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`SET search_path TO ${schema}`);
  const client: SqlClient = {
    query: (sql, params) => db.query(sql, params),
    transaction: (fn) => db.transaction(fn),
    close: async () => {
      await db.query('SET search_path TO public');
      await db.query(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
  const store = createSqlWorkflowStore(client);
  return { store, cleanup: () => store.close() };
});
