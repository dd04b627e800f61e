import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Delivery, Subscription } from '../../ports/event-bus.port.js';
import { toDelivery } from './sqs-codec.js';

export interface QueueConsumerOptions {
  client: SQSClient;
  queueUrl: string;
  topic: string;
  handler: (delivery: Delivery) => Promise<void>;
  /** Long-poll length; also the longest stop() waits for a pending receive. */
  waitTimeSeconds: number;
  /** How long a record whose handler threw stays invisible before it is redelivered. */
  retryDelaySeconds: number;
  onError: (error: unknown, context: string) => void;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One member of a consumer group: long-polls the group's FIFO queue and runs the handler on each
 * record in order. A record is deleted (committed) only after its handler resolved. When the
 * handler throws, the record and every later record of the same message group in the batch go
 * back to the queue, so per-key order holds on the redelivery.
 */
export function startQueueConsumer(options: QueueConsumerOptions): Subscription {
  const { client, queueUrl: QueueUrl, topic, handler, onError } = options;
  let running = true;

  const setVisibility = async (message: Message, seconds: number) => {
    try {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: seconds }));
    } catch (error) {
      // The record reappears anyway once its visibility timeout runs out.
      onError(error, 'release');
    }
  };

  async function handleBatch(messages: Message[]): Promise<void> {
    const blocked = new Set<string>();
    for (const message of messages) {
      const group = message.Attributes?.MessageGroupId ?? '';
      if (!running || blocked.has(group)) {
        blocked.add(group);
        await setVisibility(message, 0);
        continue;
      }
      try {
        await handler(toDelivery(topic, message));
      } catch {
        blocked.add(group);
        await setVisibility(message, options.retryDelaySeconds);
        continue;
      }
      try {
        await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      } catch (error) {
        onError(error, 'delete'); // redelivered later: at-least-once, like an uncommitted Kafka offset
      }
    }
  }

  const loop = (async () => {
    while (running) {
      let messages: Message[];
      try {
        const received = await client.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: options.waitTimeSeconds,
            MessageSystemAttributeNames: ['MessageGroupId', 'SequenceNumber', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = received.Messages ?? [];
      } catch (error) {
        onError(error, 'receive');
        await pause(1_000);
        continue;
      }
      await handleBatch(messages);
    }
  })();

  return {
    // No abort of the pending long poll: an aborted request may still take records off the queue
    // on the server, hiding them for a whole visibility timeout. Waiting for it is bounded.
    async stop() {
      running = false;
      await loop;
    },
  };
}
