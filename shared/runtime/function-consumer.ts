import type { Config } from '../config.js';
import { describeError } from '../errors.js';
import { functionSubscriptions, type FunctionName } from '../events/index.js';
import type { EventBus, Subscription } from '../ports/index.js';
import { retry } from '../retry.js';
import { sendToDeadLetter } from './dead-letter.js';
import type { RuntimePorts } from './functions.js';
import type { Logger } from './logger.js';
import { countFinished, type Metrics } from './metrics.js';
import { createOutboxPublisher, OUTBOX_CLAIM_MS } from './outbox-relay.js';
import { processEvent, type ProcessResult } from './process-event.js';
import { inEventSpan, inSpan, markFailed } from './tracing/index.js';
import { observeRecovery } from './recovery-timing.js';

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

export const retryPolicy = (config: Config) => ({
  retries: config.ORCHESTRATION_RETRY_ATTEMPTS,
  initialDelayMs: config.ORCHESTRATION_RETRY_DELAY_INITIAL * 1000,
  maxDelayMs: config.ORCHESTRATION_RETRY_DELAY_MAX * 1000,
});

/**
 * Runs one function as a consumer group on its topic: retriable failures retry with back-off, what
 * still fails (or can never succeed) goes to the dead-letter topic with its reason, and only then
 * is the offset committed, so nothing is lost and nothing blocks the partition for ever. The events
 * a commit emits are published before the next record of the partition is taken.
 */
export async function startFunctionConsumer(name: FunctionName, options: ConsumerOptions): Promise<Subscription> {
  const { bus, ports, logger, metrics } = options;
  const { topic, groupId } = functionSubscriptions[name];
  const publisher = options.publishCommitted === false ? null : createOutboxPublisher(ports.store, bus, logger);
  const claimMs = publisher ? OUTBOX_CLAIM_MS : 0;
  const subscription = await bus.subscribe({
    groupId,
    topic,
    // One span per record, a child of the producer's (the event's traceparent): consume, handler, commit, publish.
    handler: (delivery) => inEventSpan(`${name} process`, delivery.value, { 'messaging.destination.name': topic, 'messaging.consumer.group.name': groupId, 'messaging.kafka.offset': delivery.offset }, async () => {
      const started = performance.now();
      try {
        const result = await retry(
          {
            ...retryPolicy(ports.config),
            onRetry: (error, attempt, delayMs) => logger.warn('retrying event', { function: name, offset: delivery.offset, attempt, delayMs, ...describeError(error) }),
          },
          () => processEvent(name, delivery.value, ports, { claimMs, logger }),
        );
        if (result.status === 'applied' || result.status === 'skipped') {
          const published = publisher ? await inSpan(`${name} publish`, () => publisher.publish(result.claimed), { 'messaging.batch.message_count': result.claimed.length }) : false;
          if (!published) options.onCommitted?.(result);
        }
        metrics.eventsProcessed.inc({ function: name, result: result.status });
        observeTimings(name, result, started, metrics);
        if (result.status === 'skipped') logger.debug('event skipped', { function: name, id: result.event.id, why: result.outcome.skipped });
      } catch (error) {
        markFailed(error);
        logger.error('event dead-lettered', { function: name, topic, offset: delivery.offset, ...describeError(error) });
        metrics.eventsProcessed.inc({ function: name, result: 'dead_lettered' });
        metrics.deadLetters.inc({ topic });
        await sendToDeadLetter(bus, ports.ids, delivery, name, error);
      }
    }),
  });
  return {
    async stop() {
      await subscription.stop();
      await publisher?.flush();
    },
  };
}

/** What every transport records for a processed event (Kafka consumer, Knative HTTP, Lambda). */
export function observeTimings(name: FunctionName, result: ProcessResult, started: number, metrics: Metrics): void {
  const seconds = (performance.now() - started) / 1000;
  if (name === 'decompose' && result.status === 'applied') metrics.decompositionDuration.observe(seconds);
  if (name === 'assign' && result.status === 'applied') metrics.assignmentDuration.observe(seconds);
  const emittedAt = Date.parse(result.event.time);
  if (Number.isFinite(emittedAt)) metrics.messageLatency.observe({ topic: functionSubscriptions[name].topic }, Math.max(0, (Date.now() - emittedAt) / 1000));
  if (result.status === 'applied') countFinished(metrics, result.outcome.emit);
  if (name === 'dispatch' && result.status === 'applied') observeRecovery(metrics, result.event, result.outcome.emit, Date.now());
}
