import { createMemoryEventBus } from '../../shared/adapters/memory/event-bus.memory.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { deliveryBindingContract } from './delivery-binding.contract.js';
import { logDriver } from './delivery-binding.drivers.js';

deliveryBindingContract('in-process log (function-consumer.ts)', async (setup) =>
  logDriver(setup, createMemoryEventBus(), createSqlWorkflowStore(await createPgliteClient())),
);

// One partition: the records of different workflows delivered together share a batch.
deliveryBindingContract('in-process log, in batches (function-consumer.ts handleBatch)', async (setup) =>
  logDriver(setup, createMemoryEventBus({ partitions: 1, batch: { maxRecords: 16, lingerMs: 20 } }), createSqlWorkflowStore(await createPgliteClient())),
);
