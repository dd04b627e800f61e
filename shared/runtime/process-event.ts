import { z } from 'zod';
import { orchestrationEventSchema, topicOf, type FunctionName, type OrchestrationEvent } from '../events/index.js';
import { InvalidEventError } from '../errors.js';
import type { OutboxMessage, Outcome } from '../ports/index.js';
import { orchestrationFunctions, type RuntimePorts } from './functions.js';

export type ProcessResult =
  | { status: 'applied'; event: OrchestrationEvent; outcome: Outcome }
  | { status: 'skipped'; event: OrchestrationEvent; outcome: Outcome }
  | { status: 'duplicate'; event: OrchestrationEvent }
  | { status: 'ignored'; event: OrchestrationEvent };

/** Parses an incoming CloudEvent or says exactly what is wrong with it (non-retriable: dead-letter). */
export function parseEvent(value: unknown): OrchestrationEvent {
  const parsed = orchestrationEventSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidEventError(`invalid event: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`, parsed.error);
}

/** The partition key of an event: its workflow, else its agent. */
export function keyOf(event: OrchestrationEvent): string {
  const data = event.data as { workflowId?: string; agentId?: string; senderId?: string; recipientId?: string };
  return data.workflowId ?? data.agentId ?? data.recipientId ?? data.senderId ?? event.id;
}

export const toOutbox = (events: readonly OrchestrationEvent[]): OutboxMessage[] =>
  events.map((event) => ({ topic: topicOf[event.type], key: keyOf(event), event }));

/**
 * The one path of an event through a function, whatever the transport (Kafka, HTTP, Lambda,
 * embedded): parse, drop what was already processed, run the pure handler, then commit its state
 * change, its idempotency mark and its outbox in one transaction.
 */
export async function processEvent(name: FunctionName, value: unknown, ports: RuntimePorts): Promise<ProcessResult> {
  const event = parseEvent(value);
  const definition = orchestrationFunctions[name];
  if (!definition.accepts.includes(event.type)) return { status: 'ignored', event };
  if (await ports.store.hasProcessed(name, event.id)) return { status: 'duplicate', event };
  const outcome = await definition.run(event, ports);
  const committed = await ports.store.commit({ consumer: name, eventId: event.id, ...outcome.change, outbox: toOutbox(outcome.emit) });
  if (committed === 'duplicate') return { status: 'duplicate', event };
  return { status: outcome.skipped ? 'skipped' : 'applied', event, outcome };
}
