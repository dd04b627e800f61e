import { describeError } from '../errors.js';
import { deadLetterTopic } from '../events/topics.js';
import type { Delivery, EventBus } from '../ports/index.js';
import type { Ids } from '../ports/ids.port.js';

export const deadLetterType = 'amas.deadletter';

/**
 * Sends a record that could not be processed to `<topic>.dlq` as a CloudEvent carrying the reason,
 * the original record (value and headers untouched) and where it came from.
 */
export async function sendToDeadLetter(bus: EventBus, ids: Ids, delivery: Delivery, consumer: string, error: unknown): Promise<void> {
  const { code, message } = describeError(error);
  await bus.publish(deadLetterTopic(delivery.topic), [
    {
      key: delivery.key ?? `${delivery.topic}-${delivery.partition}`,
      event: {
        specversion: '1.0',
        id: ids.derivedId(`dlq:${delivery.topic}:${delivery.partition}:${delivery.offset}`, 0),
        source: `amas/${consumer}`,
        type: deadLetterType,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: {
          reason: message,
          code,
          consumer,
          topic: delivery.topic,
          partition: delivery.partition,
          offset: delivery.offset,
          original: delivery.value,
          headers: delivery.headers,
        },
      },
    },
  ]);
}
