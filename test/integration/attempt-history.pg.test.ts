import { randomUUID } from 'node:crypto';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { attemptHistoryContract } from '../contract/attempt-history.contract.js';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

attemptHistoryContract('sql over PostgreSQL', async () => {
  const schema = `amas_test_${randomUUID().replaceAll('-', '')}`;
  const admin = createPgClient(url, { maxConnections: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const store = createSqlWorkflowStore(createPgClient(url, { schema }));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
});
