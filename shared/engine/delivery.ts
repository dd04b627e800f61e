import type { Attributes } from '@opentelemetry/api';
import type { Config } from '../config.js';
import { describeError, isRetriable, type ErrorCode } from '../errors.js';
import { inputTopicOf, type FunctionName } from '../events/index.js';
import { backoffCeiling, retry } from '../retry.js';
import type { RuntimePorts } from './functions.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { observeTimings } from './observe-delivery.js';
import { processEvent, type ProcessResult } from './process-event.js';
import { inEventSpan, markFailed } from '../observability/tracing/index.js';

/** Why a record was handed back or dead-lettered: its error's stable code and message. */
export interface DeliveryReason {
  code: ErrorCode;
  message: string;
}

/** What a binding tells its transport about one record. */
export type DeliveryDecision =
  | { kind: 'ack'; result: ProcessResult }
  | { kind: 'retry'; afterMs: number; reason: DeliveryReason }
  | { kind: 'deadLetter'; reason: DeliveryReason }
  | { kind: 'refused'; reason: DeliveryReason; error: unknown };

/**
 * What the binding's transport can do with a record handed back:
 * - `none`: Kafka and the in-process log would block the partition behind it, so what still fails
 *   after the in-process retries is dead-lettered;
 * - `counted`: SQS redelivers and says which receive this is; the last one is dead-lettered here,
 *   with its reason, before the redrive policy moves it without one;
 * - `transport`: Knative retries as its delivery spec says, then sends the event to its
 *   dead-letter sink with the response, reason included;
 * - `caller`: someone waits for the answer (the API's commands): what still fails retriably after
 *   the in-process retries is a `retry` for the caller to repeat, and what can never succeed (an
 *   invalid transition) is `refused` with its error — the caller's answer, not a dead letter.
 */
export type Redelivery = { kind: 'none' } | { kind: 'counted'; attempt: number; maxAttempts: number } | { kind: 'transport' } | { kind: 'caller' };

export interface DeliveryContext {
  logger: Logger;
  metrics: Metrics;
  redelivery: Redelivery;
  /** Names the transport and the record, on the span and on the log lines. */
  attributes: Attributes;
  /** Claims the commit's outbox rows for this long: the binding publishes them itself in onAck. */
  claimMs?: number;
  /** Runs inside the event's span once the event is processed, before it is counted. */
  onAck?: (result: ProcessResult) => Promise<void>;
}

export const retryPolicy = (config: Config) => ({
  retries: config.ORCHESTRATION_RETRY_ATTEMPTS,
  initialDelayMs: config.ORCHESTRATION_RETRY_DELAY_INITIAL * 1000,
  maxDelayMs: config.ORCHESTRATION_RETRY_DELAY_MAX * 1000,
});

/** `message` is the log line's own field: the reason's goes in `error`. */
const logged = ({ code, message }: DeliveryReason) => ({ code, error: message });

/**
 * The one delivery decision of every binding: runs `processEvent` with the retry policy, records the
 * span, the metrics and the log lines, and decides from the error's classification and the
 * transport's redelivery. `read` turns the transport's record into the CloudEvent value; what it
 * throws (an undecodable body) is decided like any other error.
 */
export async function handleDelivery(name: FunctionName, read: () => unknown, ports: RuntimePorts, context: DeliveryContext): Promise<DeliveryDecision> {
  const { logger, metrics, attributes } = context;
  let value: unknown;
  let unreadable: { error: unknown } | undefined;
  try {
    value = read();
  } catch (error) {
    unreadable = { error };
  }
  return inEventSpan(`${name} process`, value, attributes, async (): Promise<DeliveryDecision> => {
    const started = performance.now();
    const topic = inputTopicOf(name);
    try {
      if (unreadable) throw unreadable.error;
      const result = await retry(
        {
          ...retryPolicy(ports.config),
          onRetry: (error, attempt, delayMs) =>
            logger.warn('retrying event', { function: name, ...attributes, attempt, delayMs, ...logged(describeError(error)) }),
        },
        () => processEvent(name, value, ports, { claimMs: context.claimMs ?? 0, logger, metrics }),
      );
      await context.onAck?.(result);
      metrics.eventsProcessed.inc({ function: name, result: result.status });
      observeTimings(name, result, started, metrics);
      if (result.status === 'skipped') logger.debug('event skipped', { function: name, id: result.event.id, why: result.outcome.skipped });
      return { kind: 'ack', result };
    } catch (error) {
      markFailed(error);
      const reason = describeError(error);
      if (context.redelivery.kind === 'caller' && !isRetriable(error)) {
        logger.info('command refused', { function: name, ...attributes, ...logged(reason) });
        return { kind: 'refused', reason, error };
      }
      const afterMs = redeliverAfter(error, context.redelivery, ports.config);
      if (afterMs !== null) {
        logger.warn('event handed back for redelivery', { function: name, topic, ...attributes, afterMs, ...logged(reason) });
        metrics.eventsProcessed.inc({ function: name, result: 'retried' });
        return { kind: 'retry', afterMs, reason };
      }
      logger.error('event dead-lettered', { function: name, topic, ...attributes, ...logged(reason) });
      metrics.eventsProcessed.inc({ function: name, result: 'dead_lettered' });
      metrics.deadLetters.inc({ topic });
      return { kind: 'deadLetter', reason };
    }
  });
}

/** The wait before a redelivery, or null when the record must be dead-lettered now. */
function redeliverAfter(error: unknown, redelivery: Redelivery, config: Config): number | null {
  if (!isRetriable(error) || redelivery.kind === 'none') return null;
  if (redelivery.kind === 'counted' && redelivery.attempt >= redelivery.maxAttempts) return null;
  // The caller repeats it (HTTP 503 with Retry-After): nobody else holds the record.
  // The back-off goes on where the in-process retries stopped.
  const policy = retryPolicy(config);
  const attempt = redelivery.kind === 'counted' ? redelivery.attempt : 1;
  return backoffCeiling(policy, policy.retries + attempt - 1);
}
