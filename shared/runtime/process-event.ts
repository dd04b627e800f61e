import { z } from 'zod';
import { orchestrationEventSchema, topicOf, type FunctionName, type OrchestrationEvent } from '../events/index.js';
import { InvalidEventError } from '../errors.js';
import type { EventSnapshot, OutboxMessage, OutboxRecord, Outcome, SnapshotScope, WorkflowStore } from '../ports/index.js';
import { orchestrationFunctions, type RuntimePorts } from './functions.js';

export type ProcessResult =
  | { status: 'applied'; event: OrchestrationEvent; outcome: Outcome; claimed: OutboxRecord[] }
  | { status: 'skipped'; event: OrchestrationEvent; outcome: Outcome; claimed: OutboxRecord[] }
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

export interface ProcessOptions {
  /**
   * Claim the outbox rows for this long: the caller publishes `claimed` itself right after the
   * commit (OutboxPublisher). Without it (0) the rows are left to the outbox relay.
   */
  claimMs?: number;
}

/**
 * The one path of an event through a function, whatever the transport (Kafka, HTTP, Lambda,
 * embedded): parse, drop what was already processed, run the pure handler, then commit its state
 * change, its idempotency mark and its outbox in one transaction.
 */
export async function processEvent(name: FunctionName, value: unknown, ports: RuntimePorts, options: ProcessOptions = {}): Promise<ProcessResult> {
  const event = parseEvent(value);
  const definition = orchestrationFunctions[name];
  if (!definition.accepts.includes(event.type)) return { status: 'ignored', event };
  const workflowId = (event.data as { workflowId?: string }).workflowId;
  let reading = ports;
  if (workflowId === undefined) {
    if (await ports.store.hasProcessed(name, event.id)) return { status: 'duplicate', event };
  } else {
    const subtaskId = (event.data as { subtaskId?: string }).subtaskId;
    const scope: SnapshotScope = definition.reads === 'one' && subtaskId !== undefined ? { subtasks: 'one', subtaskId } : { subtasks: definition.reads === 'all' ? 'all' : 'none' };
    const snapshot = await ports.store.readForEvent(name, event.id, workflowId, scope);
    // A duplicate is dropped before the handler runs: it takes no lease and reserves no slot.
    if (snapshot.processed) return { status: 'duplicate', event };
    reading = { ...ports, store: snapshotReader(ports.store, workflowId, snapshot, scope.subtasks === 'all') };
  }
  const outcome = await definition.run(event, reading);
  const change = { consumer: name, eventId: event.id, ...outcome.change, outbox: toOutbox(outcome.emit) };
  const claimMs = options.claimMs ?? 0;
  let claimed: OutboxRecord[] = [];
  if (claimMs > 0) {
    const committed = await ports.store.commitClaimed(change, claimMs);
    if (committed.status === 'duplicate') return { status: 'duplicate', event };
    claimed = committed.outbox;
  } else if ((await ports.store.commit(change)) === 'duplicate') {
    return { status: 'duplicate', event };
  }
  return { status: outcome.skipped ? 'skipped' : 'applied', event, outcome, claimed };
}

/** The store as the handler sees it: reads of the event's workflow answered from the snapshot, the rest passed on. */
function snapshotReader(store: WorkflowStore, workflowId: string, snapshot: EventSnapshot, hasAllSubtasks: boolean): WorkflowStore {
  const { workflow, subtasks } = snapshot;
  return {
    ...store,
    getWorkflow: (id) => (id === workflowId ? Promise.resolve(workflow) : store.getWorkflow(id)),
    getSubtask: (id) => {
      const found = subtasks?.find((s) => s.id === id);
      return found ? Promise.resolve(found) : store.getSubtask(id);
    },
    getSubtasks: (id) => (id === workflowId && subtasks !== null && hasAllSubtasks ? Promise.resolve(subtasks) : store.getSubtasks(id)),
  };
}
