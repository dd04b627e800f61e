import { deadLetterTopic } from '../events/topics.js';
import type { EventBus } from '../ports/index.js';
import type { Ids } from '../ports/ids.port.js';
import type { DeliveryReason } from './delivery.js';

export const deadLetterType = 'amas.deadletter';

/** The record that failed, as the binding received it: a Kafka Delivery fits, an SQS record names its message. */
export interface DeadLetterSource {
  topic: string;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
  /** Where it was: a Kafka partition and offset, or an SQS message id. */
  partition?: number;
  offset?: number;
  messageId?: string;
}

/**
 * Sends a record that could not be processed to `<topic>.dlq` as a CloudEvent carrying the reason,
 * the original record (value and headers untouched) and where it came from. Its id derives from
 * that position, so dead-lettering the same record twice sends the same letter.
 */
export async function sendToDeadLetter(bus: EventBus, ids: Ids, source: DeadLetterSource, consumer: string, reason: DeliveryReason): Promise<void> {
  const position = source.messageId ?? `${source.partition}:${source.offset}`;
  await bus.publish(deadLetterTopic(source.topic), [
    {
      key: source.key ?? `${source.topic}-${position}`,
      event: {
        specversion: '1.0',
        id: ids.derivedId(`dlq:${source.topic}:${position}`, 0),
        source: `amas/${consumer}`,
        type: deadLetterType,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: {
          reason: reason.message,
          code: reason.code,
          consumer,
          topic: source.topic,
          partition: source.partition ?? null,
          offset: source.offset ?? null,
          ...(source.messageId === undefined ? {} : { messageId: source.messageId }),
          original: source.value,
          headers: source.headers,
        },
      },
    },
  ]);
}
