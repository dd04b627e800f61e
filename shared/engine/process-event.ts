import { z } from 'zod';
import { orchestrationEventSchema, topicOf, type FunctionName, type OrchestrationEvent } from '../events/index.js';
import type { Subtask, Workflow } from '../domain/workflow.js';
import type { EventSnapshot, OutboxMessage, OutboxRecord, Outcome, SnapshotScope, StateChange, WorkflowStore } from '../ports/index.js';
import { orchestrationFunctions, type FunctionDefinition, type RuntimePorts } from './functions.js';
import { trackTaken } from './compensation.js';
import { runEffects } from './effects.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { inSpan, stampTrace } from '../observability/tracing/index.js';
import { carryLoss } from './recovery-timing.js';
import { carriedBefore, carriesState, withCarriedState, withoutCarriedState } from './carried-state.js';
import { CarriedStateNotEnoughError, ConcurrencyConflictError, InvalidEventError } from '../errors.js';

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
  /** Logs each workflow and subtask state change of an applied commit (INFO), and a post-commit effect that failed (WARN). */
  logger?: Logger;
  /** Counts the post-commit effects that failed, and the carried state used or found stale. */
  metrics?: Pick<Metrics, 'effectsFailed'> & Partial<Pick<Metrics, 'carriedState'>>;
}

/**
 * The one path of an event through a function, whatever the transport (Kafka, HTTP, Lambda,
 * embedded): parse, drop what was already processed, run the pure handler, commit its state
 * change, its idempotency mark and its outbox in one transaction, then run its effects (releases),
 * before the caller publishes what the commit emitted.
 */
export async function processEvent(name: FunctionName, value: unknown, ports: RuntimePorts, options: ProcessOptions = {}): Promise<ProcessResult> {
  const event = parseEvent(value);
  const definition = orchestrationFunctions[name];
  if (!definition.accepts.includes(event.type)) return { status: 'ignored', event };
  if (carriesState(event)) {
    // No read: the handler decides on the carried state, the commit checks it (and finds a duplicate).
    try {
      const result = await runTracked(name, event, definition, ports, carriedBefore(event), options);
      options.metrics?.carriedState?.inc({ function: name, outcome: 'used' });
      return result;
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError)) throw error;
      options.metrics?.carriedState?.inc({ function: name, outcome: error instanceof CarriedStateNotEnoughError ? 'read' : 'stale' });
      return processRead(name, withoutCarriedState(event), definition, ports, options);
    }
  }
  return processRead(name, event, definition, ports, options);
}

/** The event's workflow (and the subtasks its handler reads) read in one round trip, with the duplicate check, then run. */
async function processRead(
  name: FunctionName,
  event: OrchestrationEvent,
  definition: FunctionDefinition,
  ports: RuntimePorts,
  options: ProcessOptions,
): Promise<ProcessResult> {
  const workflowId = (event.data as { workflowId?: string }).workflowId;
  if (workflowId === undefined) {
    if (await ports.store.hasProcessed(name, event.id)) return { status: 'duplicate', event };
    return runTracked(name, event, definition, ports, {}, options);
  }
  const subtaskId = (event.data as { subtaskId?: string }).subtaskId;
  const scope: SnapshotScope =
    definition.reads === 'one' && subtaskId !== undefined ? { subtasks: 'one', subtaskId } : { subtasks: definition.reads === 'all' ? 'all' : 'none' };
  const snapshot = await ports.store.readForEvent(name, event.id, workflowId, scope);
  // A duplicate is dropped before the handler runs: it takes no lease and reserves no slot.
  if (snapshot.processed) return { status: 'duplicate', event };
  const before: Before = { workflow: snapshot.workflow, subtasks: snapshot.subtasks ?? [] };
  const reading = { ...ports, store: snapshotReader(ports.store, workflowId, snapshot, scope.subtasks === 'all') };
  return runTracked(name, event, definition, reading, before, { ...options, store: ports.store });
}

/** Runs the handler and commits; slots and leases it took are handed back if its commit does not happen (trackTaken). */
async function runTracked(
  name: FunctionName,
  event: OrchestrationEvent,
  definition: FunctionDefinition,
  reading: RuntimePorts,
  before: Before,
  options: ProcessOptions & { store?: WorkflowStore },
): Promise<ProcessResult> {
  const store = options.store ?? reading.store;
  const taking = trackTaken(reading);
  const carry = reading.config.ORCHESTRATION_EVENT_SNAPSHOTS;
  let committed: Awaited<ReturnType<typeof runAndCommit>>;
  try {
    committed = await runAndCommit(name, event, definition, taking.ports, store, options.claimMs ?? 0, carry ? before : null);
  } catch (error) {
    await taking.giveBack(store, options.logger);
    throw error;
  }
  if (committed.status === 'duplicate') {
    await taking.giveBack(store, options.logger);
    return { status: 'duplicate', event };
  }
  const { outcome, change, claimed } = committed;
  const workflowId = (event.data as { workflowId?: string }).workflowId;
  if (options.logger) logStateChange(options.logger, change, before, workflowId);
  await runEffects(outcome.after, reading, options);
  return { status: outcome.skipped ? 'skipped' : 'applied', event, outcome, claimed };
}

async function runAndCommit(
  name: FunctionName,
  event: OrchestrationEvent,
  definition: FunctionDefinition,
  reading: RuntimePorts,
  store: WorkflowStore,
  claimMs: number,
  carryFrom: Before | null,
) {
  const outcome = await inSpan(`${name} handler`, () => definition.run(event, reading));
  // The handler's events carry on the trace (from this event's span), the loss time of re-driven work
  // and the state their consumer decides on (carryFrom: what was read, null when not to carry): the handler stays pure.
  const change: StateChange = { consumer: name, eventId: event.id, ...outcome.change };
  const emitted = carryFrom ? withCarriedState(outcome.emit, change, carryFrom, event) : outcome.emit;
  change.outbox = toOutbox(emitted.map((e) => stampTrace(carryLoss(event, e))));
  if (claimMs > 0) {
    const committed = await inSpan(`${name} commit`, () => store.commitClaimed(change, claimMs));
    return committed.status === 'duplicate' ? ({ status: 'duplicate' } as const) : ({ status: 'applied', outcome, change, claimed: committed.outbox } as const);
  }
  const status = await inSpan(`${name} commit`, () => store.commit(change));
  return status === 'duplicate' ? ({ status: 'duplicate' } as const) : ({ status: 'applied', outcome, change, claimed: [] as OutboxRecord[] } as const);
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

/** What a handler read before its commit: the statuses a logged change moved from. */
export interface Before {
  workflow?: Workflow | null;
  /** The rows as read: whole, except what carried state stands for (no task fields then). */
  subtasks?: readonly (Pick<Subtask, 'id' | 'workflowId' | 'status' | 'assignedAgent' | 'attempts' | 'version'> &
    Partial<Pick<Subtask, 'title' | 'description' | 'successCriteria' | 'estimatedMinutes' | 'dependsOn'>>)[];
}

/**
 * The store for a handler whose reads are remembered in `before` (the API's commands), so the
 * change can be logged with its previous statuses without reading again.
 */
export function rememberingReads(ports: RuntimePorts): { ports: RuntimePorts; before: Before } {
  const { store } = ports;
  const seen = new Map<string, Subtask>();
  const keep = (found: readonly Subtask[]) => found.forEach((s) => seen.set(s.id, s));
  const before = {
    workflow: null as Workflow | null,
    get subtasks() {
      return [...seen.values()];
    },
  };
  const remembering: WorkflowStore = {
    ...store,
    getWorkflow: async (id) => (before.workflow = await store.getWorkflow(id)),
    getSubtasks: async (id) => {
      const found = await store.getSubtasks(id);
      keep(found);
      return found;
    },
    getSubtask: async (id) => {
      const found = await store.getSubtask(id);
      if (found) keep([found]);
      return found;
    },
  };
  return { ports: { ...ports, store: remembering }, before };
}

/**
 * One INFO line per workflow and per subtask whose status, agent or attempt a committed change moves, called
 * once per applied commit (a duplicate commit logs nothing): `workflowId`, `subtaskId`, `agentId`,
 * `attempt`, `status`, `previousStatus`, `quality`, `error` (null where not known), and what caused it.
 */
export function logStateChange(logger: Logger, change: StateChange, before: Before, workflowId?: string): void {
  const cause = { consumer: change.consumer, eventId: change.eventId };
  // In the order the store applies them: inserts, then workflow, then subtask updates.
  for (const s of change.insertSubtasks ?? []) {
    logger.info('subtask changed', {
      workflowId: s.workflowId,
      subtaskId: s.id,
      agentId: s.assignedAgent,
      attempt: s.attempts,
      status: s.status,
      previousStatus: null,
      quality: s.quality,
      error: s.lastError,
      ...cause,
    });
  }
  for (const { id, patch } of change.workflowUpdates ?? []) {
    const previous = before.workflow?.id === id ? before.workflow : undefined;
    if (patch.status === undefined || patch.status === previous?.status) continue;
    logger.info('workflow changed', {
      workflowId: id,
      subtaskId: null,
      agentId: null,
      attempt: null,
      status: patch.status,
      previousStatus: previous?.status ?? null,
      quality: null,
      error: patch.failureReason ?? null,
      ...cause,
    });
  }
  for (const { id, patch } of change.subtaskUpdates ?? []) {
    if (patch.status === undefined && patch.assignedAgent === undefined) continue;
    const previous = before.subtasks?.find((s) => s.id === id);
    const moved = (key: 'status' | 'assignedAgent' | 'attempts') => patch[key] !== undefined && patch[key] !== previous?.[key];
    if (previous && !moved('status') && !moved('assignedAgent') && !moved('attempts')) continue;
    logger.info('subtask changed', {
      workflowId: previous?.workflowId ?? workflowId ?? null,
      subtaskId: id,
      agentId: patch.assignedAgent !== undefined ? patch.assignedAgent : (previous?.assignedAgent ?? null),
      attempt: patch.attempts ?? previous?.attempts ?? null,
      status: patch.status ?? previous?.status ?? null,
      previousStatus: previous?.status ?? null,
      quality: patch.quality ?? null,
      error: patch.lastError ?? null,
      ...cause,
    });
  }
}
