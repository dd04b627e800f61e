// A subscription outlives a broker outage longer than the Kafka client's own connection retries: the
// consumer crashes for good, its restart fails while the broker is still down, and it keeps trying
// until the broker is back (before, it gave up after one failed restart and its partitions stayed
// unread: the chaos suite's CI failure). The same for both clients (KAFKA_CLIENT). Stops the shared
// broker: runs in the chaos project, alone.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, it } from 'vitest';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createPlatformaticEventBus } from '../../shared/adapters/kafka-platformatic/event-bus.platformatic.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import { createLogger } from '../../shared/observability/logger.js';
import type { Delivery, EventBus } from '../../shared/ports/index.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';
import { ensureKafkaUp, repoRoot, waitUntil } from './helpers/processes.js';

const exec = promisify(execFile);
const prefix = `outage-${randomUUID().slice(0, 8)}.`;
const event = (n: number): AnyCloudEvent => ({
  specversion: '1.0',
  id: `outage-${n}-${randomUUID()}`,
  source: 'amas/test',
  type: 'test.outage',
  time: new Date().toISOString(),
  data: { n },
});

// Each client with a small retry budget, so the outage outlasts its own reconnects within seconds
// (@platformatic/kafka's default: 3 retries 1 s apart).
const clients: { client: string; restartFailedLine: string; open(lines: string[]): EventBus }[] = [
  {
    client: 'kafkajs',
    restartFailedLine: 'kafka consumer restart failed; trying again',
    open: (lines) =>
      createKafkaEventBus({
        brokers: ['127.0.0.1:9092'],
        clientId: `outage-${prefix}`,
        topicPrefix: prefix,
        logger: createLogger('ERROR', 'outage', (line) => lines.push(line)),
        consumer: testConsumerTimings,
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
        connectionTimeout: 1_000,
      }),
  },
  {
    client: 'platformatic',
    restartFailedLine: 'platformatic kafka consumer restart failed; trying again',
    open: (lines) =>
      createPlatformaticEventBus({
        brokers: ['127.0.0.1:9092'],
        clientId: `outage-pf-${prefix}`,
        topicPrefix: `${prefix}pf.`,
        logger: createLogger('ERROR', 'outage', (line) => lines.push(line)),
        consumer: testConsumerTimings,
      }),
  },
];

describe.each(clients)('a Kafka consumer ($client) through a broker outage', ({ client, restartFailedLine, open }) => {
  const lines: string[] = [];
  const bus = open(lines);

  afterAll(async () => {
    await ensureKafkaUp(false);
    await bus.close().catch(() => undefined);
    const admin = new Kafka({ clientId: `outage-clean-${prefix}`, brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await deleteKafkaPrefix(admin, prefix).finally(() => admin.disconnect());
  });

  it('reads again after a broker outage, also when its restart failed while the broker was down (it keeps trying)', { timeout: 180_000 }, async () => {
    await ensureKafkaUp();
    const got: number[] = [];
    await bus.subscribe({
      topic: 'outage.events',
      groupId: 'outage-readers',
      handler: async (d: Delivery) => void got.push((d.value as { data: { n: number } }).data.n),
    });
    await bus.publish('outage.events', [{ key: 'k', event: event(1) }]);
    await waitUntil('the first event is read', async () => got.includes(1), 30_000);

    // Down until a restart of ours failed against the stopped broker (the case that used to end the
    // consumer for good), or 15 s: kafkajs does not always give up on its own within an outage.
    await exec('bash', ['infra/kafka/stop.sh'], { cwd: repoRoot, timeout: 90_000 });
    const restartFailed = () => lines.some((line) => line.includes(restartFailedLine));
    try {
      await waitUntil('a restart failed with the broker down', async () => restartFailed(), 15_000, 200).catch(() => undefined);
    } finally {
      await ensureKafkaUp(false); // a restart: whoever started the broker stops it
    }
    process.stdout.write(
      `[outage] ${client}: the consumer ${restartFailed() ? 'crashed for good and a restart failed during the outage' : 'came back by itself or at its first restart'}\n`,
    );

    await bus.publish('outage.events', [{ key: 'k', event: event(2) }]);
    await waitUntil('the event published after the outage is read', async () => got.includes(2), 60_000);
  });
});
