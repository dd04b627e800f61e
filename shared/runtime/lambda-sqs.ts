import type { FunctionName } from '../events/index.js';
import { describeError, InvalidEventError, isRetriable } from '../errors.js';
import { observeTimings } from './function-consumer.js';
import { processEvent } from './process-event.js';
import type { Runtime } from './runtime.js';
import { flushTraces, inEventSpan } from './tracing/index.js';

/** The parts of an AWS SQS event a handler reads (no @types/aws-lambda needed). */
export interface SqsEvent {
  Records: { messageId: string; body: string; messageAttributes?: Record<string, { stringValue?: string }> }[];
}
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Lambda entry point over SQS: each record's body is a structured-mode CloudEvent. Failures are
 * reported per record (ReportBatchItemFailures), so SQS retries only those and its redrive policy
 * moves a record that keeps failing to the dead-letter queue.
 */
export function createSqsHandler(name: FunctionName, runtime: () => Promise<Runtime>) {
  return async (event: SqsEvent): Promise<SqsBatchResponse> => {
    const rt = await runtime();
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const started = performance.now();
      try {
        const event = parseBody(record.body);
        const result = await inEventSpan(`${name} process`, event, { 'messaging.system': 'aws_sqs', 'messaging.message.id': record.messageId }, () => processEvent(name, event, rt.ports, { logger: rt.logger }));
        rt.metrics.eventsProcessed.inc({ function: name, result: result.status });
        observeTimings(name, result, started, rt.metrics);
      } catch (error) {
        rt.logger.error('sqs record failed', { function: name, messageId: record.messageId, retriable: isRetriable(error), ...describeError(error) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    await rt.relay.drain();
    await flushTraces();
    return { batchItemFailures };
  };
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new InvalidEventError('SQS record body is not JSON (expected a structured-mode CloudEvent)', error);
  }
}
