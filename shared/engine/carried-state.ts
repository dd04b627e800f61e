import type { CarriedAssignedState, CarriedReadyState, CarriedTask, EventOf, OrchestrationEvent } from '../events/index.js';
import type { StateChange } from '../ports/index.js';
import type { Before } from './process-event.js';

/**
 * The subtask.ready and subtask.assigned events of a commit, each with the state its consumer decides
 * on as this commit writes it (ORCHESTRATION_EVENT_SNAPSHOTS): the subtask's row version after the
 * commit and, for assign, its workflow's tenant; for a subtask that depends on nothing, also its task,
 * so that dispatch needs no read either. Only where it is known here: a subtask this handler inserted,
 * patched or read, of the event's own workflow, or a task the incoming event carried. A wake-up of
 * another workflow's work carries nothing, and its consumer reads.
 */
export function withCarriedState(
  events: readonly OrchestrationEvent[],
  change: StateChange,
  before: Before,
  incoming: OrchestrationEvent,
): OrchestrationEvent[] {
  return events.map((event) => {
    if (event.type === 'subtask.ready') return carryReady(event, change, before);
    if (event.type === 'subtask.assigned') return carryAssigned(event, change, before, incoming);
    return event;
  });
}

function carryReady(event: EventOf<'subtask.ready'>, change: StateChange, before: Before): OrchestrationEvent {
  const workflow = before.workflow;
  if (!workflow || event.data.workflowId !== workflow.id) return event;
  const subtaskVersion = versionAfter(event.data.subtaskId, change, before);
  if (subtaskVersion === undefined) return event;
  const task = taskOf(event.data.subtaskId, change, before);
  const carried: CarriedReadyState = { subtaskVersion, tenant: workflow.tenant, ...(task ? { task } : {}) };
  return { ...event, data: { ...event.data, carried } };
}

function carryAssigned(event: EventOf<'subtask.assigned'>, change: StateChange, before: Before, incoming: OrchestrationEvent): OrchestrationEvent {
  const { subtaskId, workflowId } = event.data;
  const subtaskVersion = versionAfter(subtaskId, change, before);
  if (subtaskVersion === undefined) return event;
  const handedOn = incoming.type === 'subtask.ready' && incoming.data.subtaskId === subtaskId ? incoming.data.carried?.task : undefined;
  const task = handedOn ?? (before.workflow?.id === workflowId ? taskOf(subtaskId, change, before) : undefined);
  if (!task) return event;
  const carried: CarriedAssignedState = { subtaskVersion, task };
  return { ...event, data: { ...event.data, carried } };
}

/** The subtask row's version once `change` commits: inserted as is, patched once (+1), or untouched as read. */
function versionAfter(subtaskId: string, change: StateChange, before: Before): number | undefined {
  const inserted = change.insertSubtasks?.find((s) => s.id === subtaskId);
  if (inserted) return inserted.version;
  const patched = change.subtaskUpdates?.find((u) => u.id === subtaskId);
  if (patched) return patched.expectedVersion + 1;
  return before.subtasks?.find((s) => s.id === subtaskId)?.version;
}

/** The task of a subtask without dependencies, from its row as inserted or read (a patch never changes it). */
function taskOf(subtaskId: string, change: StateChange, before: Before): CarriedTask | undefined {
  const createdAt = before.workflow?.createdAt;
  const row = change.insertSubtasks?.find((s) => s.id === subtaskId) ?? before.subtasks?.find((s) => s.id === subtaskId);
  if (!createdAt || !row || row.title === undefined || row.description === undefined || !row.successCriteria || !row.estimatedMinutes) return undefined;
  if (row.dependsOn?.length !== 0) return undefined;
  return {
    title: row.title,
    description: row.description,
    successCriteria: row.successCriteria,
    estimatedMinutes: row.estimatedMinutes,
    workflowCreatedAt: createdAt,
  };
}

/** The same event without its carried state: what its consumer runs on once the carried state proved stale. */
export function withoutCarriedState(event: OrchestrationEvent): OrchestrationEvent {
  if (!carriesState(event)) return event;
  const { carried: _stale, ...data } = event.data;
  return { ...event, data } as OrchestrationEvent;
}

type CarryingEvent =
  (EventOf<'subtask.ready'> & { data: { carried: CarriedReadyState } }) | (EventOf<'subtask.assigned'> & { data: { carried: CarriedAssignedState } });

export const carriesState = (event: OrchestrationEvent): event is CarryingEvent =>
  (event.type === 'subtask.ready' || event.type === 'subtask.assigned') && event.data.carried !== undefined;

/**
 * What the carried state says the subtask was (ready for this attempt at that version, unassigned
 * before assign, assigned to the agent before dispatch), for the state-change log: facts the commit's
 * version check confirms, not a read.
 */
export function carriedBefore(event: OrchestrationEvent): Before {
  if (!carriesState(event)) return {};
  const { workflowId, subtaskId, attempt, carried } = event.data;
  const assignedAgent = event.type === 'subtask.assigned' ? event.data.agentId : null;
  return { subtasks: [{ id: subtaskId, workflowId, status: 'ready', assignedAgent, attempts: attempt - 1, version: carried.subtaskVersion }] };
}
