// The delivery conformance suite on the real broker and PostgreSQL with the @platformatic/kafka bus
// (KAFKA_CLIENT=platformatic): the decompose consumer group as main-function.ts runs it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createPlatformaticEventBus } from '../../shared/adapters/kafka-platformatic/event-bus.platformatic.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { deliveryBindingContract } from '../contract/delivery-binding.contract.js';
import { logDriver } from '../contract/delivery-binding.drivers.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const run = randomUUID().slice(0, 8);
const topicPrefix = `it-delivery-plt-${run}.`;
const schema = `amas_it_delivery_plt_${run}`;

let admin: Admin;
let sqlAdmin: SqlClient;
beforeAll(async () => {
  admin = new Kafka({ clientId: `it-delivery-plt-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  sqlAdmin = createPgClient(databaseUrl, { maxConnections: 1 });
  await sqlAdmin.query(`CREATE SCHEMA ${schema}`);
});
afterAll(async () => {
  await sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sqlAdmin.close();
  await deleteKafkaPrefix(admin, topicPrefix);
  await admin.disconnect();
});

deliveryBindingContract('Kafka consumer group on @platformatic/kafka (function-consumer.ts)', async (setup) => {
  const bus = createPlatformaticEventBus({ brokers, clientId: `it-delivery-plt-${run}`, partitions: 3, topicPrefix, consumer: testConsumerTimings });
  const store = createSqlWorkflowStore(createPgClient(databaseUrl, { schema, maxConnections: 3 }));
  return logDriver(setup, bus, store, { closeAdapters: true });
});
