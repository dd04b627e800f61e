// The communication bus on the real local broker: signatures travel in the event data (older records:
// in a Kafka header), forged ones are refused either way, sends are batched per band, and a CRITICAL
// message overtakes a backlog of LOW ones across the five band topics.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createIds } from '../../shared/adapters/memory/ids.js';
import { defaultConfig } from '../../shared/config.js';
import { agentMessage, makeEvent } from '../../shared/events/index.js';
import { createCommunicationBus, type CommunicationBus } from '../../shared/messaging/communication-bus.js';
import { createDerivedKeyStore, signMessage } from '../../shared/messaging/message-auth.js';
import type { AgentMessage } from '../../shared/messaging/message-schema.js';
import { priorityTopics } from '../../shared/messaging/priority-topics.js';
import type { EventBus } from '../../shared/ports/index.js';
import { silentLogger } from '../../shared/observability/logger.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const run = randomUUID().slice(0, 8);
const keys = createDerivedKeyStore('kafka-messages-test-secret');
let events: EventBus;
let bus: CommunicationBus;
const got: AgentMessage[] = [];
let handlerDelayMs = 0;

const until = async (check: () => boolean, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  events = createKafkaEventBus({ brokers, clientId: `it-messages-${run}`, partitions: 3, topicPrefix: `it-msg-${run}.`, consumer: testConsumerTimings });
  bus = createCommunicationBus({ eventBus: events, keys, config: defaultConfig(), logger: silentLogger, groupId: `it-messages-${run}`, fromBeginning: true });
  await bus.onMessage('bob', async (m) => {
    got.push(m);
    if (handlerDelayMs) await new Promise((r) => setTimeout(r, handlerDelayMs));
  });
  // All five band consumers are in their groups once a probe on each band came through.
  for (const priority of ['LOW', 'NORMAL', 'HIGH', 'URGENT', 'CRITICAL'] as const) {
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'HEARTBEAT', priority, payload: { probe: true } });
  }
  await until(() => got.length === 5);
  got.length = 0;
});

afterAll(async () => {
  await bus?.close();
  await events?.close();
  const admin = new Kafka({ clientId: `it-messages-${run}-admin`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(priorityTopics).map((t) => `it-msg-${run}.${t}`) }).catch(() => undefined);
  await admin.disconnect();
});

describe('communication bus over Kafka', () => {
  it('delivers a signed message, and refuses a forged sender whether its signature is in a header or in the data', async () => {
    const data = {
      messageId: `forged-${run}`,
      senderId: 'boss',
      recipientId: 'bob',
      messageType: 'APPROVAL_RESPONSE' as const,
      priority: 'HIGH' as const,
      payload: { approved: true },
      sentAt: new Date().toISOString(),
    };
    const forged = await signMessage(keys, { ...data, senderId: 'mallory' });
    const event = makeEvent(agentMessage, data, { ids: createIds(), clock: { now: () => Date.now() }, source: 'mallory' });
    await events.publish(priorityTopics.HIGH, [{ key: 'bob', event }], { 'amas-signature': forged });
    const inData = {
      ...data,
      messageId: `forged-data-${run}`,
      signature: await signMessage(keys, { ...data, messageId: `forged-data-${run}`, senderId: 'mallory' }),
    };
    await events.publish(priorityTopics.HIGH, [{ key: 'bob', event: { ...event, id: `e-${run}`, data: inData } }]);
    await bus.sendMessage({ senderId: 'boss', recipientId: 'bob', messageType: 'APPROVAL_RESPONSE', priority: 'HIGH', payload: { approved: false } });
    await until(() => got.length === 1 && bus.getCommunicationMetrics().failed >= 2);
    expect(got[0]).toMatchObject({ senderId: 'boss', payload: { approved: false } });
    expect(got[0]).not.toHaveProperty('signature');
    expect(bus.getCommunicationMetrics().failures).toMatchObject({ unauthenticated: 2 });
  });

  it('handles a CRITICAL message sent after 300 LOW ones before most of them', async () => {
    got.length = 0;
    handlerDelayMs = 10;
    await Promise.all(
      Array.from({ length: 300 }, (_, n) =>
        bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE', priority: 'LOW', payload: { n } }),
      ),
    );
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'ESCALATION', priority: 'CRITICAL' });
    await until(() => got.length === 301);
    const position = got.findIndex((m) => m.priority === 'CRITICAL');
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThan(150);
    const metrics = bus.getCommunicationMetrics();
    expect(metrics.latencyMs.p99).toBeGreaterThan(metrics.latencyMs.p50);
    expect(metrics.latencyMs.p50).toBeGreaterThan(0);
  });
});
