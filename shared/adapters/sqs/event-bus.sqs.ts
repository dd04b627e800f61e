import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DependencyUnavailableError, OrchestrationError } from '../../errors.js';
import type { EventBus, Subscription } from '../../ports/event-bus.port.js';
import { toEntries } from './sqs-codec.js';
import { startQueueConsumer } from './sqs-consumer.js';
import { queueNames } from './sqs-names.js';
import { createQueueRegistry } from './sqs-queues.js';

export interface SqsEventBusOptions {
  client: SQSClient;
  /** Prepended to every queue name (an environment or a test run). */
  queuePrefix?: string;
  waitTimeSeconds?: number;
  visibilityTimeoutSeconds?: number;
  retryDelaySeconds?: number;
  maxReceiveCount?: number;
  registryTtlMs?: number;
  /**
   * A publish to a topic with no group queue: 'error' (default) throws NO_QUEUE, since SQS would
   * lose the records; 'drop' discards them (tests of Kafka-like semantics, where late groups start at the end).
   */
  unrouted?: 'error' | 'drop';
  onError?: (error: unknown, context: string) => void;
}

export interface SqsEventBus extends EventBus {
  /** Creates the group's queue (and dead-letter queue) now: records published from then on reach it. */
  ensureGroup(topic: string, groupId: string): Promise<string>;
}

const BATCH = 10; // SendMessageBatch's limit

/**
 * The EventBus on SQS FIFO queues, one per (topic, consumer group): `<prefix><topic>--<group>.fifo`.
 * A publish fans out to every group queue of the topic (SNS-to-SQS style); a group's members
 * share its queue, message groups (= keys) keep per-key order, and a record is deleted only after
 * its handler resolved.
 *
 * What SQS cannot do that Kafka does: it retains nothing per topic. A group sees only records
 * published after its queue exists (so `fromBeginning` changes nothing: create the queues with
 * `ensureGroup` or infrastructure code before publishing; a publish that finds none fails), and `read()` (replay) is not
 * supported: on AWS, replay reads the store's outbox and processed-event tables instead.
 */
export function createSqsEventBus(options: SqsEventBusOptions): SqsEventBus {
  const { client } = options;
  const onError = options.onError ?? (() => {});
  const registry = createQueueRegistry(client, queueNames(options.queuePrefix), {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
    maxReceiveCount: options.maxReceiveCount ?? 5,
    registryTtlMs: options.registryTtlMs ?? 1_000,
  });
  const subscriptions = new Set<Subscription>();
  let closed = false;

  async function sendAll(queueUrl: string, entries: ReturnType<typeof toEntries>): Promise<void> {
    // Batches one after another: per-key order across batches is the order of these sends.
    for (let start = 0; start < entries.length; start += BATCH) {
      const { Failed = [] } = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.slice(start, start + BATCH) }));
      if (Failed.length > 0) {
        const first = Failed[0]!;
        const message = `SQS refused ${Failed.length} record(s) for ${queueUrl}: ${first.Code} ${first.Message ?? ''}`;
        // Retrying re-sends the whole batch; the deduplication id absorbs the ones that got in.
        throw first.SenderFault ? new OrchestrationError('SQS_REJECTED', message) : new DependencyUnavailableError('SQS', new Error(message));
      }
    }
  }

  return {
    ensureGroup: (topic, groupId) => registry.ensureGroup(topic, groupId),

    async publish(topic, messages, headers) {
      if (closed) throw new OrchestrationError('BUS_CLOSED', 'the event bus is closed');
      if (messages.length === 0) return;
      const entries = toEntries(messages, headers);
      const queues = await registry.groupQueues(topic);
      if (queues.length === 0 && (options.unrouted ?? 'error') === 'error') {
        throw new OrchestrationError('NO_QUEUE', `no SQS queue for topic ${topic}: create its group queues (serverless.yml, ensureGroup) before publishing`);
      }
      await Promise.all(queues.map((url) => sendAll(url, entries)));
    },

    async subscribe({ topic, groupId, handler }) {
      if (closed) throw new OrchestrationError('BUS_CLOSED', 'the event bus is closed');
      const queueUrl = await registry.ensureGroup(topic, groupId);
      const consumer = startQueueConsumer({
        client,
        queueUrl,
        topic,
        handler,
        waitTimeSeconds: options.waitTimeSeconds ?? 5,
        retryDelaySeconds: options.retryDelaySeconds ?? 1,
        onError,
      });
      const subscription: Subscription = {
        async stop() {
          subscriptions.delete(subscription);
          await consumer.stop();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async lag(groupId, topic) {
      const queueUrl = await registry.findGroup(topic, groupId);
      if (queueUrl === null) return 0;
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    },

    async read(topic) {
      throw new OrchestrationError('UNSUPPORTED', `SQS retains no log of ${topic}: replay from the outbox table instead`);
    },

    async close() {
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
    },
  };
}
