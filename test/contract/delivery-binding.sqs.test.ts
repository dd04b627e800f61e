import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { deliveryBindingContract } from './delivery-binding.contract.js';
import { sqsDriver } from './delivery-binding.drivers.js';

deliveryBindingContract('Lambda over SQS (lambda-sqs.ts)', async (setup) => sqsDriver(setup, createSqlWorkflowStore(await createPgliteClient())));
