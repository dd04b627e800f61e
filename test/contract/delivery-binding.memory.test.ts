import { createMemoryEventBus } from '../../shared/adapters/memory/event-bus.memory.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { deliveryBindingContract } from './delivery-binding.contract.js';
import { logDriver } from './delivery-binding.drivers.js';

deliveryBindingContract('in-process log (function-consumer.ts)', async (setup) =>
  logDriver(setup, createMemoryEventBus(), createSqlWorkflowStore(await createPgliteClient())),
);
