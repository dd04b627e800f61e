import { functionSubscriptions, type ConsumerName } from '../events/index.js';
import { InvalidEventError } from '../errors.js';
import { sendToDeadLetter } from '../engine/dead-letter.js';
import { handleDelivery, type DeliveryReason } from '../engine/delivery.js';
import type { Runtime } from '../runtime/runtime.js';
import { flushTraces } from '../observability/tracing/index.js';

/** The parts of an AWS SQS event a handler reads (no @types/aws-lambda needed). */
export interface SqsEvent {
  Records: {
    messageId: string;
    body: string;
    attributes?: { ApproximateReceiveCount?: string; MessageGroupId?: string };
    messageAttributes?: Record<string, { stringValue?: string }>;
  }[];
}
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface SqsHandlerOptions {
  /** The queue's redrive maxReceiveCount: the record's last receive is dead-lettered here, with its reason. */
  maxReceiveCount?: number;
}

/**
 * Lambda binding over SQS FIFO: each record's body is a structured-mode CloudEvent. A retry is a
 * batch item failure (SQS delivers it again after the visibility timeout), and so is every later
 * record of its message group, which must not overtake it. A dead letter is published to
 * `<topic>.dlq` with its reason, and the record acknowledged.
 */
export function createSqsHandler(name: ConsumerName, runtime: () => Promise<Runtime>, options: SqsHandlerOptions = {}) {
  const maxAttempts = options.maxReceiveCount ?? 5;
  const { topic } = functionSubscriptions[name];
  return async (event: SqsEvent): Promise<SqsBatchResponse> => {
    const rt = await runtime();
    const batchItemFailures: { itemIdentifier: string }[] = [];
    const heldBack = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes?.MessageGroupId ?? record.messageId;
      if (heldBack.has(group)) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const decision = await handleDelivery(name, () => parseBody(record.body), rt.ports, {
        logger: rt.logger,
        metrics: rt.metrics,
        redelivery: { kind: 'counted', attempt: Number(record.attributes?.ApproximateReceiveCount ?? 1), maxAttempts },
        attributes: { 'messaging.system': 'aws_sqs', 'messaging.destination.name': topic, 'messaging.message.id': record.messageId },
      });
      const settled = decision.kind === 'ack' || (decision.kind === 'deadLetter' && (await deadLetter(rt, name, record, decision.reason)));
      if (!settled) {
        heldBack.add(group);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    await rt.relay.drain();
    await flushTraces();
    return { batchItemFailures };
  };
}

/** Publishes the record to `<topic>.dlq` with its reason; false (the record stays on its queue) when that fails. */
async function deadLetter(rt: Runtime, name: ConsumerName, record: SqsEvent['Records'][number], reason: DeliveryReason): Promise<boolean> {
  const headers = Object.fromEntries(
    Object.entries(record.messageAttributes ?? {}).flatMap(([k, v]) => (v.stringValue === undefined ? [] : [[k, v.stringValue]])),
  );
  const source = {
    topic: functionSubscriptions[name].topic,
    key: record.attributes?.MessageGroupId ?? null,
    value: safeParse(record.body),
    headers,
    messageId: record.messageId,
  };
  try {
    await sendToDeadLetter(rt.bus, rt.ports.ids, source, name, reason);
    return true;
  } catch (error) {
    rt.logger.error('dead-lettering an SQS record failed; SQS will deliver it again', { function: name, messageId: record.messageId, error: String(error) });
    return false;
  }
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new InvalidEventError('SQS record body is not JSON (expected a structured-mode CloudEvent)', error);
  }
}

/** The original as the dead letter keeps it: the parsed event, or the body's text when it is no JSON. */
function safeParse(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
