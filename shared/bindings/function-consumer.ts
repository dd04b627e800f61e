import { functionSubscriptions, type FunctionName } from '../events/index.js';
import { OrchestrationError } from '../errors.js';
import type { EventBus, Subscription } from '../ports/index.js';
import { sendToDeadLetter } from '../engine/dead-letter.js';
import { handleDelivery } from '../engine/delivery.js';
import type { RuntimePorts } from '../engine/functions.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createOutboxPublisher, OUTBOX_CLAIM_MS } from '../engine/outbox-relay.js';
import type { ProcessResult } from '../engine/process-event.js';
import { inSpan } from '../observability/tracing/index.js';

export interface ConsumerOptions {
  bus: EventBus;
  ports: RuntimePorts;
  logger: Logger;
  metrics: Metrics;
  /**
   * Publish each commit's events from this consumer right after the commit (default), or leave
   * them to the outbox relay (false).
   */
  publishCommitted?: boolean;
  /** Called after a committed state change whose events are left to the relay (the runtime kicks it). */
  onCommitted?: (result: ProcessResult) => void;
}

/**
 * The Kafka (and in-process log) binding of one function, as a consumer group on its topic. The
 * log cannot redeliver one record without holding up its partition, so handleDelivery retries in
 * process and dead-letters what still fails; the offset is committed after the ack or the dead
 * letter, and a commit's events are published before the partition's next record is taken.
 */
export async function startFunctionConsumer(name: FunctionName, options: ConsumerOptions): Promise<Subscription> {
  const { bus, ports, logger, metrics } = options;
  const { topic, groupId } = functionSubscriptions[name];
  const publisher = options.publishCommitted === false ? null : createOutboxPublisher(ports.store, bus, logger);
  const publish = async (result: ProcessResult): Promise<void> => {
    const claimed = result.status === 'applied' || result.status === 'skipped' ? result.claimed : null;
    if (claimed === null) return;
    const published = publisher
      ? await inSpan(`${name} publish`, () => publisher.publish(claimed), { 'messaging.batch.message_count': claimed.length })
      : false;
    if (!published) options.onCommitted?.(result);
  };
  const subscription = await bus.subscribe({
    groupId,
    topic,
    handler: async (delivery) => {
      const decision = await handleDelivery(name, () => delivery.value, ports, {
        logger,
        metrics,
        redelivery: { kind: 'none' },
        attributes: { 'messaging.destination.name': topic, 'messaging.consumer.group.name': groupId, 'messaging.kafka.offset': delivery.offset },
        claimMs: publisher ? OUTBOX_CLAIM_MS : 0,
        onAck: publish,
      });
      if (decision.kind === 'deadLetter') await sendToDeadLetter(bus, ports.ids, delivery, name, decision.reason);
      // Never with redelivery none; throwing would have the bus deliver the record again.
      if (decision.kind === 'retry') throw new OrchestrationError(decision.reason.code, decision.reason.message, { retriable: true });
    },
  });
  return {
    async stop() {
      await subscription.stop();
      await publisher?.flush();
    },
  };
}
