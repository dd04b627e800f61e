import { functionSubscriptions, type ConsumerName } from '../events/index.js';
import { OrchestrationError } from '../errors.js';
import type { Delivery, EventBus, OutboxRecord, Subscription } from '../ports/index.js';
import { sendToDeadLetter } from '../engine/dead-letter.js';
import { handleDelivery } from '../engine/delivery.js';
import type { RuntimePorts } from '../engine/functions.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createOutboxPublisher, OUTBOX_CLAIM_MS } from '../engine/outbox-relay.js';
import type { ProcessResult } from '../engine/process-event.js';
import { inSpan } from '../observability/tracing/index.js';
import { createCommitGate } from './commit-gate.js';

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

const claimedOf = (result: ProcessResult): OutboxRecord[] | null => (result.status === 'applied' || result.status === 'skipped' ? result.claimed : null);

/** A batch's records as one chain per key, in offset order. */
function chainsByKey(deliveries: readonly Delivery[]): Delivery[][] {
  const chains = new Map<string, Delivery[]>();
  for (const delivery of deliveries) {
    const key = delivery.key ?? '';
    const chain = chains.get(key);
    if (chain) chain.push(delivery);
    else chains.set(key, [delivery]);
  }
  return [...chains.values()];
}

/**
 * The Kafka (and in-process log) binding of one function, as a consumer group on its topic. The
 * log cannot redeliver one record without holding up its partition, so handleDelivery retries in
 * process and dead-letters what still fails; the offset is committed after the ack or the dead
 * letter, and a commit's events are published before the partition's next record is taken.
 */
export async function startFunctionConsumer(name: ConsumerName, options: ConsumerOptions): Promise<Subscription> {
  const { bus, ports, logger, metrics } = options;
  const { topic, groupId } = functionSubscriptions[name];
  const publisher = options.publishCommitted === false ? null : createOutboxPublisher(ports.store, bus, logger);
  const publish = async (result: ProcessResult): Promise<void> => {
    const claimed = claimedOf(result);
    if (claimed === null) return;
    const published = publisher
      ? await inSpan(`${name} publish`, () => publisher.publish(claimed), { 'messaging.batch.message_count': claimed.length })
      : false;
    if (!published) options.onCommitted?.(result);
  };
  const decide = async (delivery: Delivery, runtimePorts: RuntimePorts, onAck: (result: ProcessResult) => Promise<void>): Promise<void> => {
    const decision = await handleDelivery(name, () => delivery.value, runtimePorts, {
      logger,
      metrics,
      redelivery: { kind: 'none' },
      attributes: { 'messaging.destination.name': topic, 'messaging.consumer.group.name': groupId, 'messaging.kafka.offset': delivery.offset },
      claimMs: publisher ? OUTBOX_CLAIM_MS : 0,
      onAck,
    });
    if (decision.kind === 'deadLetter') await sendToDeadLetter(bus, ports.ids, delivery, name, decision.reason);
    // Never with redelivery none; throwing would have the bus deliver the record again.
    if (decision.kind === 'retry') throw new OrchestrationError(decision.reason.code, decision.reason.message, { retriable: true });
  };
  /**
   * A batch: every key at once, each key's records in order, each record decided on its own (a
   * poison record is dead-lettered, the others go on); their commits leave together through the
   * gate, and what they emitted is published in one request before the offsets are committed.
   */
  const handleBatch = async (deliveries: Delivery[]): Promise<void> => {
    const gate = createCommitGate(ports.store);
    const batchPorts: RuntimePorts = { ...ports, store: gate.store };
    const results: ProcessResult[] = [];
    const collect = async (result: ProcessResult): Promise<void> => void results.push(result);
    // Every chain ends before the batch does: a batch that fails is delivered again only once none of it is running.
    const chains = await Promise.allSettled(
      chainsByKey(deliveries).map(async (chain) => {
        for (const delivery of chain) {
          gate.enter();
          try {
            await decide(delivery, batchPorts, collect);
          } finally {
            gate.leave();
          }
        }
      }),
    );
    const failed = chains.find((chain) => chain.status === 'rejected');
    if (failed) throw failed.reason;
    const claimed = results.flatMap((result) => claimedOf(result) ?? []).sort((a, b) => a.seq - b.seq);
    if (claimed.length === 0) return;
    const published = publisher
      ? await inSpan(`${name} publish`, () => publisher.publish(claimed), { 'messaging.batch.message_count': claimed.length })
      : false;
    if (!published) for (const result of results) if (claimedOf(result)?.length) options.onCommitted?.(result);
  };
  const subscription = await bus.subscribe({
    groupId,
    topic,
    handler: (delivery) => decide(delivery, ports, publish),
    handleBatch,
  });
  return {
    async stop() {
      await subscription.stop();
      await publisher?.flush();
    },
  };
}
