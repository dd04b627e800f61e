import { pgliteSchemas } from '../unit/helpers/pglite-schemas.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { attemptHistoryContract } from './attempt-history.contract.js';

const schemaClient = pgliteSchemas('attempts');

attemptHistoryContract('sql over in-memory PGlite', async () => {
  const client = await schemaClient();
  const store = createSqlWorkflowStore(client);
  return { store, cleanup: () => store.close() };
});
