import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { OrchestrationError } from '../../errors.js';
import type { Delivery, OutgoingMessage } from '../../ports/event-bus.port.js';
import { fitId, partitionOf } from './sqs-names.js';

const MAX_ATTRIBUTES = 10; // per message, an SQS limit
const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)[A-Za-z0-9_.-]{1,256}$/i;

/**
 * The body is the structured-mode CloudEvent (what a Lambda on the queue parses); headers travel
 * as String message attributes. MessageGroupId = the key (per-key order), MessageDeduplicationId
 * = the event id (a publish retried within SQS's 5-minute window is not delivered twice).
 */
export function toEntries(messages: readonly OutgoingMessage[], headers: Record<string, string> = {}): SendMessageBatchRequestEntry[] {
  const names = Object.keys(headers);
  if (names.length > MAX_ATTRIBUTES) {
    throw new OrchestrationError('SQS_TOO_MANY_HEADERS', `SQS carries at most ${MAX_ATTRIBUTES} headers per message, got ${names.length}`);
  }
  const bad = names.find((name) => !ATTRIBUTE_NAME.test(name));
  if (bad !== undefined) throw new OrchestrationError('SQS_BAD_HEADER', `header name ${JSON.stringify(bad)} is not a valid SQS attribute name`);
  const attributes: Record<string, MessageAttributeValue> = Object.fromEntries(names.map((name) => [name, { DataType: 'String', StringValue: headers[name] }]));
  return messages.map((message, index) => ({
    Id: String(index),
    MessageBody: JSON.stringify(message.event),
    MessageGroupId: fitId(message.key ?? message.event.id),
    MessageDeduplicationId: fitId(message.event.id),
    ...(names.length > 0 ? { MessageAttributes: attributes } : {}),
  }));
}

/**
 * What a consumer sees. `offset` is the FIFO SequenceNumber as a Number: it increases within a
 * message group but exceeds 2^53 on AWS (20+ digits), so it may lose precision there: use it to
 * log and compare roughly, never as an exact position. `partition` is a hash of the group id.
 */
export function toDelivery(topic: string, message: Message): Delivery {
  const attributes = message.Attributes ?? {};
  const key = attributes.MessageGroupId ?? null;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) headers[name] = value.StringValue;
  }
  return {
    topic,
    partition: key === null ? 0 : partitionOf(key),
    offset: Number(attributes.SequenceNumber ?? 0),
    key,
    timestamp: Number(attributes.SentTimestamp ?? 0),
    value: parseBody(message.Body ?? ''),
    headers,
  };
}

/** Unvalidated, like every adapter: a body that is not JSON is handed over as text. */
function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
