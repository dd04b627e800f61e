// The real local broker (infra/kafka/start.sh) round-trips messages for kafkajs: a 6-partition
// topic, 100 keyed messages in, the same 100 out through a consumer group, in order per key.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const suffix = randomUUID().slice(0, 8);
const topic = `it.kafka-broker.${suffix}`;
const groupId = `it-kafka-broker-${suffix}`;
const PARTITIONS = 6;
const MESSAGES = 100;
const KEYS = 10;

const kafka = new Kafka({ clientId: 'kafka-broker-test', brokers, logLevel: logLevel.ERROR });
let admin: Admin;
let producer: Producer;
let consumer: Consumer;

interface Received {
  key: string;
  messageKey: string | undefined;
  seq: number;
  partition: number;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  expect(created).toBe(true);
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  if (admin) {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

describe('local Kafka broker', () => {
  it('creates a topic with 6 partitions', async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0]?.partitions).toHaveLength(PARTITIONS);
  });

  it('delivers 100 messages through a consumer group, in order per key', async () => {
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // Ten sends of ten messages: several produce requests, each message keyed key-0 … key-9.
    for (let batch = 0; batch < MESSAGES / 10; batch++) {
      const messages = Array.from({ length: 10 }, (_, i) => {
        const seq = batch * 10 + i;
        const key = `key-${seq % KEYS}`;
        return { key, value: JSON.stringify({ key, seq }) };
      });
      await producer.send({ topic, acks: -1, messages });
    }

    consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received: Received[] = [];
    const allReceived = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const body = JSON.parse(message.value?.toString() ?? '{}') as { key: string; seq: number };
          received.push({ ...body, messageKey: message.key?.toString(), partition });
          if (received.length === MESSAGES) resolve();
        },
      });
    });
    await withTimeout(allReceived, 60_000, () => `consumed ${received.length}/${MESSAGES}`);

    expect(received).toHaveLength(MESSAGES);
    expect(received.every((r) => r.messageKey === r.key)).toBe(true);
    expect(new Set(received.map((r) => r.seq)).size).toBe(MESSAGES);
    for (let k = 0; k < KEYS; k++) {
      const ofKey = received.filter((r) => r.key === `key-${k}`);
      // Produced as k, k+10, k+20, …: the same order must come back, all from one partition.
      expect(ofKey.map((r) => r.seq)).toEqual(Array.from({ length: MESSAGES / KEYS }, (_, i) => k + i * KEYS));
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
    }
    expect(new Set(received.map((r) => r.partition)).size).toBeGreaterThan(1);

    // The group coordinator stored the offsets: disconnect commits, the committed total is 100.
    await consumer.disconnect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(committed).toBe(MESSAGES);
  });
});

async function withTimeout(promise: Promise<void>, ms: number, progress: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${progress()}`)), ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
