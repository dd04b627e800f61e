// The delivery conformance suite (test/contract/delivery-binding.contract.ts) on the real broker and
// PostgreSQL: the decompose consumer group over Kafka, as main-function.ts runs it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { deliveryBindingContract } from '../contract/delivery-binding.contract.js';
import { logDriver } from '../contract/delivery-binding.drivers.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const run = randomUUID().slice(0, 8);
/** Every topic and group of this file carries the prefix, so cleanup removes exactly ours. */
const topicPrefix = `it-delivery-${run}.`;
const schema = `amas_it_delivery_${run}`;

let admin: Admin;
let sqlAdmin: SqlClient;
beforeAll(async () => {
  admin = new Kafka({ clientId: `it-delivery-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  sqlAdmin = createPgClient(databaseUrl, { maxConnections: 1 });
  await sqlAdmin.query(`CREATE SCHEMA ${schema}`);
  await sqlAdmin.query(`CREATE SCHEMA ${schema}_batch`);
});
afterAll(async () => {
  await sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema}_batch CASCADE`);
  await sqlAdmin.close();
  await deleteKafkaPrefix(admin, topicPrefix);
  await admin.disconnect();
});

function kafkaContract(name: string, batched: boolean): void {
  deliveryBindingContract(name, async (setup) => {
    const bus = createKafkaEventBus({
      brokers,
      clientId: `it-delivery-${run}`,
      // Batched, one partition: the records of different workflows delivered together share a batch.
      partitions: batched ? 1 : 3,
      topicPrefix: batched ? `${topicPrefix}batch.` : topicPrefix,
      consumer: testConsumerTimings,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
      ...(batched ? { batch: { maxRecords: 16, lingerMs: 20 } } : {}),
    });
    // Batched, the commits of a batch go to PostgreSQL together as one amas_commit_set (group commit).
    const store = createSqlWorkflowStore(
      createPgClient(databaseUrl, { schema: batched ? `${schema}_batch` : schema, maxConnections: 3, groupCommit: batched }),
    );
    return logDriver(setup, bus, store, { closeAdapters: true });
  });
}

kafkaContract('Kafka consumer group (function-consumer.ts)', false);
kafkaContract('Kafka consumer group, in batches (function-consumer.ts handleBatch)', true);
