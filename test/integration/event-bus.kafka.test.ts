// The Kafka EventBus against the real local broker (infra/kafka/start.sh): the shared contract, then
// what only Kafka shows — CloudEvents binary mode on the wire, structured mode and garbage read back.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaEventBus, testConsumerTimings, type KafkaEventBusOptions } from '../../shared/adapters/kafka/event-bus.kafka.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { Delivery, EventBus } from '../../shared/ports/event-bus.port.js';
import { eventBusContract, waitFor } from '../contract/event-bus.contract.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = randomUUID().slice(0, 8);
/** Every topic and group of this file carries the prefix, so cleanup removes exactly ours. */
const topicPrefix = `it-bus-${run}.`;
const testRetry = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 };

const makeBus = (extra: Partial<KafkaEventBusOptions> = {}): EventBus =>
  createKafkaEventBus({ brokers, clientId: `it-bus-${run}`, partitions: 6, topicPrefix, consumer: testConsumerTimings, retry: testRetry, ...extra });

let admin: Admin;
beforeAll(async () => {
  admin = new Kafka({ clientId: `it-bus-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
afterAll(async () => {
  await deleteKafkaPrefix(admin, topicPrefix);
  await admin.disconnect();
});

eventBusContract('kafka', async () => {
  const bus = makeBus();
  return { bus, cleanup: () => bus.close() };
});

const event: AnyCloudEvent = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'amas/test',
  type: 'subtask.ready',
  time: '2024-05-01T10:00:00.000Z',
  subject: 'wf-1',
  datacontenttype: 'application/json',
  workflowid: 'wf-1',
  traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
  data: { workflowId: 'wf-1', n: 1 },
};

describe('Kafka event bus: CloudEvents Kafka binding', () => {
  let bus: EventBus;
  beforeAll(() => void (bus = makeBus()));
  afterAll(() => bus.close());

  it('writes binary mode: ce_* headers, a JSON content type, the data alone as the value, the workflow as key', async () => {
    const topic = `binary.${randomUUID().slice(0, 8)}`;
    await bus.publish(topic, [{ key: 'wf-1', event }], { 'x-extra': 'yes' });
    const raw = await rawRecords(`${topicPrefix}${topic}`, 1);
    expect(raw[0]).toMatchObject({
      key: 'wf-1',
      value: JSON.stringify(event.data),
      headers: {
        ce_specversion: '1.0',
        ce_id: 'evt-1',
        ce_source: 'amas/test',
        ce_type: 'subtask.ready',
        ce_time: event.time,
        ce_subject: 'wf-1',
        ce_workflowid: 'wf-1',
        ce_traceparent: event.traceparent,
        'content-type': 'application/json',
        'x-extra': 'yes',
      },
    });
    const [delivered] = await bus.read(topic);
    expect(delivered).toMatchObject({ topic, key: 'wf-1', value: event, headers: { 'x-extra': 'yes' } });
  });

  it('reads structured mode, and hands garbage over as the raw text', async () => {
    const topic = `structured.${randomUUID().slice(0, 8)}`;
    await bus.publish(topic, [{ key: 'wf-1', event }]); // creates the topic with our partitions
    const producer = new Kafka({ clientId: `it-raw-${run}`, brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: `${topicPrefix}${topic}`,
      messages: [
        { key: 'wf-1', value: JSON.stringify({ ...event, id: 'evt-2' }), headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' } },
        { key: 'wf-1', value: Buffer.from([0xff, 0x00, 0x7b, 0x22]) },
      ],
    });
    await producer.disconnect();
    let got: Delivery[] = [];
    await waitFor(async () => (got = await bus.read(topic)).length === 3, 20_000, 'three records');
    expect(got.map((d) => d.value)).toEqual([event, { ...event, id: 'evt-2' }, Buffer.from([0xff, 0x00, 0x7b, 0x22]).toString()]);
    expect(got[1]!.headers).toEqual({});
  });
});

describe('Kafka event bus: offsets committed on an interval (KAFKA_OFFSET_COMMIT_INTERVAL_MS)', () => {
  const publishN = (bus: EventBus, topic: string, from: number, n: number) =>
    bus.publish(
      topic,
      Array.from({ length: n }, (_, i) => ({ key: `wf-${(from + i) % 3}`, event: { ...event, id: `evt-${from + i}`, data: { n: from + i } } })),
    );

  const names = () => ({ topic: `commit.${randomUUID().slice(0, 8)}`, groupId: `commit.${randomUUID().slice(0, 8)}` });

  it('commits on a timer once records stop coming, not only after a next batch', async () => {
    const bus = makeBus({ offsetCommitIntervalMs: 300 });
    const { topic, groupId } = names();
    try {
      let handled = 0;
      await bus.subscribe({ topic, groupId, handler: async () => void (handled += 1) });
      await publishN(bus, topic, 0, 9);
      await waitFor(() => handled === 9, 20_000, 'nine records handled');
      // Nothing more arrives: only the committer's timer can bring the lag to 0.
      await waitFor(async () => (await bus.lag(groupId, topic)) === 0, 5_000, 'lag 0 after the interval');
    } finally {
      await bus.close();
    }
  });

  it('commits what a stopped subscription handled before it leaves, so its group never gets it again', async () => {
    // An interval longer than the test: only the commit on stop() can move the offsets.
    const bus = makeBus({ offsetCommitIntervalMs: 60_000 });
    const { topic, groupId } = names();
    try {
      const first: string[] = [];
      const subscription = await bus.subscribe({ topic, groupId, handler: async (d) => void first.push((d.value as AnyCloudEvent).id) });
      await publishN(bus, topic, 0, 6);
      await waitFor(() => first.length === 6, 20_000, 'six records handled');
      expect(await bus.lag(groupId, topic)).toBe(6);
      await subscription.stop();
      expect(await bus.lag(groupId, topic)).toBe(0);

      const second: string[] = [];
      await bus.subscribe({ topic, groupId, handler: async (d) => void second.push((d.value as AnyCloudEvent).id) });
      await publishN(bus, topic, 6, 1);
      await waitFor(() => second.length >= 1, 20_000, 'the new record');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(second).toEqual(['evt-6']);
    } finally {
      await bus.close();
    }
  });
});

/** The records exactly as on the wire, through a plain kafkajs consumer. */
async function rawRecords(topic: string, count: number): Promise<{ key: string | undefined; value: string | undefined; headers: Record<string, string> }[]> {
  const consumer = new Kafka({ clientId: `it-raw-${run}`, brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `${topicPrefix}raw.${randomUUID().slice(0, 8)}`,
    ...testConsumerTimings,
  });
  const out: { key: string | undefined; value: string | undefined; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      out.push({ key: message.key?.toString(), value: message.value?.toString(), headers });
    },
  });
  try {
    await waitFor(() => out.length >= count, 20_000, 'raw records');
  } finally {
    await consumer.disconnect();
  }
  return out;
}
