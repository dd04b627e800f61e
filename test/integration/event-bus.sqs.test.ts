import { randomUUID } from 'node:crypto';
import { ListQueuesCommand, DeleteQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../shared/adapters/sqs/sqs-client.js';
import { createSqsEventBus, type SqsEventBus } from '../../shared/adapters/sqs/event-bus.sqs.js';
import { queueNames } from '../../shared/adapters/sqs/sqs-names.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { Delivery } from '../../shared/ports/event-bus.port.js';
import { eventBusContract, waitFor } from '../contract/event-bus.contract.js';

const endpoint = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324';
const client: SQSClient = createSqsClient(endpoint);
const prefix = `t${randomUUID().slice(0, 6)}-`;

const makeBus = (unrouted?: 'drop'): SqsEventBus => createSqsEventBus({ client, queuePrefix: prefix, waitTimeSeconds: 1, retryDelaySeconds: 0, unrouted });

// SQS keeps no per-topic log: a group created after a publish cannot see it, and read() is unsupported.
// The contract publishes before any group exists (Kafka semantics), so it runs with unrouted: 'drop'.
eventBusContract(
  'sqs (ElasticMQ)',
  async () => {
    const bus = makeBus('drop');
    return { bus, cleanup: () => bus.close() };
  },
  { skip: { retainedLog: 'SQS keeps no per-topic log' } },
);

const eventOf = (seq: number): AnyCloudEvent => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'test',
  type: 'test',
  time: new Date().toISOString(),
  data: { seq },
});
const seqOf = (d: Delivery): number => (d.value as { data: { seq: number } }).data.seq;

describe('SQS event bus specifics', () => {
  let bus: SqsEventBus;
  beforeAll(() => {
    bus = makeBus();
  });
  afterAll(async () => {
    await bus.close();
    const { QueueUrls = [] } = await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    await Promise.all(QueueUrls.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))));
    client.destroy();
  });

  it('stores a copy of what was published, for a group whose queue existed first', async () => {
    const topic = `copy.${randomUUID().slice(0, 8)}`;
    await bus.ensureGroup(topic, 'g');
    const event = eventOf(1);
    await bus.publish(topic, [{ key: 'k', event }]);
    (event.data as { seq: number }).seq = 99;
    const got: Delivery[] = [];
    const sub = await bus.subscribe({ topic, groupId: 'g', handler: async (d) => void got.push(d) });
    await waitFor(() => got.length === 1);
    await sub.stop();
    expect(seqOf(got[0]!)).toBe(1);
  });

  it('refuses a publish to a topic with no group queue (records would be lost), and keeps none of it', async () => {
    const topic = `late.${randomUUID().slice(0, 8)}`;
    await expect(bus.publish(topic, [{ key: 'k', event: eventOf(0) }])).rejects.toMatchObject({ code: 'NO_QUEUE' });
    const got: Delivery[] = [];
    const sub = await bus.subscribe({ topic, groupId: 'g', handler: async (d) => void got.push(d) });
    await bus.publish(topic, [{ key: 'k', event: eventOf(1) }]);
    await waitFor(() => got.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sub.stop();
    expect(got.map(seqOf)).toEqual([1]);
    await expect(bus.read(topic)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('delivers each event once when a publish is retried (deduplication by event id)', async () => {
    const topic = `dedup.${randomUUID().slice(0, 8)}`;
    await bus.ensureGroup(topic, 'g');
    const event = eventOf(7);
    await bus.publish(topic, [{ key: 'k', event }]);
    await bus.publish(topic, [{ key: 'k', event }]);
    await bus.publish(topic, [{ key: 'k', event: eventOf(8) }]);
    const got: Delivery[] = [];
    const sub = await bus.subscribe({ topic, groupId: 'g', handler: async (d) => void got.push(d) });
    await waitFor(() => got.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sub.stop();
    expect(got.map(seqOf)).toEqual([7, 8]);
    expect(got[0]!.offset).toBeLessThan(got[1]!.offset);
    expect(got[0]!.partition).toBe(got[1]!.partition);
  });

  it('hands a body that is not JSON to the handler as text, and names queues within SQS limits', async () => {
    const topic = `raw.${randomUUID().slice(0, 8)}`;
    const url = await bus.ensureGroup(topic, 'g');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'not json {', MessageGroupId: 'k', MessageDeduplicationId: 'raw-1' }));
    const got: Delivery[] = [];
    const sub = await bus.subscribe({ topic, groupId: 'g', handler: async (d) => void got.push(d) });
    await waitFor(() => got.length === 1);
    await sub.stop();
    expect(got[0]).toMatchObject({ topic, key: 'k', value: 'not json {', headers: {} });
    const long = queueNames('p-').groupQueue('amas.' + 'x'.repeat(100), 'group-'.repeat(20));
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long).toMatch(/^[A-Za-z0-9_-]+\.fifo$/);
  });
});
