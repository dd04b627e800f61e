// The @platformatic/kafka EventBus (KAFKA_CLIENT=platformatic) against the real local broker: the same
// contract as the kafkajs bus (test/integration/event-bus.kafka.test.ts), then wire compatibility with it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createPlatformaticEventBus } from '../../shared/adapters/kafka-platformatic/event-bus.platformatic.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { Delivery } from '../../shared/ports/event-bus.port.js';
import { eventBusContract, waitFor } from '../contract/event-bus.contract.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = randomUUID().slice(0, 8);
const topicPrefix = `it-plt-${run}.`;
const makeBus = () => createPlatformaticEventBus({ brokers, clientId: `it-plt-${run}`, partitions: 6, topicPrefix, consumer: testConsumerTimings });

let admin: Admin;
beforeAll(async () => {
  admin = new Kafka({ clientId: `it-plt-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
afterAll(async () => {
  await deleteKafkaPrefix(admin, topicPrefix);
  await admin.disconnect();
});

eventBusContract('kafka (@platformatic/kafka)', async () => {
  const bus = makeBus();
  return { bus, cleanup: () => bus.close() };
});

describe('platformatic and kafkajs buses share one wire format', () => {
  it('each reads what the other wrote, every key on the same partition', async () => {
    const plt = makeBus();
    const kjs = createKafkaEventBus({ brokers, clientId: `it-plt-kjs-${run}`, partitions: 6, topicPrefix, consumer: testConsumerTimings });
    try {
      const event = (id: string, key: string): AnyCloudEvent => ({
        specversion: '1.0',
        id,
        source: 'amas/test',
        type: 'subtask.ready',
        time: '2024-05-01T10:00:00.000Z',
        workflowid: key,
        data: { workflowId: key },
      });
      const keys = Array.from({ length: 12 }, (_, i) => `wf-${i}`);
      const [a, b] = [`wire-a.${randomUUID().slice(0, 8)}`, `wire-b.${randomUUID().slice(0, 8)}`];
      await plt.publish(
        a,
        keys.map((key) => ({ key, event: event(`p-${key}`, key) })),
      );
      await kjs.publish(
        b,
        keys.map((key) => ({ key, event: event(`k-${key}`, key) })),
      );
      let fromPlt: Delivery[] = [];
      let fromKjs: Delivery[] = [];
      await waitFor(async () => (fromPlt = await kjs.read(a)).length === 12, undefined, 'kafkajs reads platformatic');
      await waitFor(async () => (fromKjs = await plt.read(b)).length === 12, undefined, 'platformatic reads kafkajs');
      const partitionOf = (ds: Delivery[]) => Object.fromEntries(ds.map((d) => [d.key, d.partition]));
      expect(partitionOf(fromPlt)).toEqual(partitionOf(fromKjs));
      expect(fromPlt.find((d) => d.key === 'wf-3')?.value).toEqual({ ...event('p-wf-3', 'wf-3'), datacontenttype: 'application/json' });
    } finally {
      await Promise.all([plt.close(), kjs.close()]);
    }
  });
});
