import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { deliveryBindingContract } from './delivery-binding.contract.js';
import { knativeDriver } from './delivery-binding.drivers.js';

deliveryBindingContract('Knative CloudEvents over HTTP (function-http.ts)', async (setup) =>
  knativeDriver(setup, createSqlWorkflowStore(await createPgliteClient())),
);
