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
});
afterAll(async () => {
  await sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sqlAdmin.close();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(topicPrefix));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
});

deliveryBindingContract('Kafka consumer group (function-consumer.ts)', async (setup) => {
  const bus = createKafkaEventBus({
    brokers,
    clientId: `it-delivery-${run}`,
    partitions: 3,
    topicPrefix,
    consumer: testConsumerTimings,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
  });
  const store = createSqlWorkflowStore(createPgClient(databaseUrl, { schema, maxConnections: 3 }));
  const driver = await logDriver(setup, bus, store);
  return {
    ...driver,
    async close() {
      await driver.close();
      await bus.close();
      await store.close();
    },
  };
});
