import type { CarriedReadyState, EventOf, OrchestrationEvent } from '../events/index.js';
import type { StateChange } from '../ports/index.js';
import type { Before } from './process-event.js';

/**
 * The subtask.ready events of a commit, each with the state assign decides on as this commit writes
 * it (ORCHESTRATION_EVENT_SNAPSHOTS): the subtask's row version after the commit and its workflow's
 * tenant. Only where both are known here: a subtask this handler inserted, patched or read, of the
 * event's own workflow. A wake-up of another workflow's work carries nothing, and assign reads.
 */
export function withCarriedState(events: readonly OrchestrationEvent[], change: StateChange, before: Before): OrchestrationEvent[] {
  const workflow = before.workflow;
  if (!workflow) return [...events];
  return events.map((event) => {
    if (event.type !== 'subtask.ready' || event.data.workflowId !== workflow.id) return event;
    const subtaskVersion = versionAfter(event.data.subtaskId, change, before);
    if (subtaskVersion === undefined) return event;
    const carried: CarriedReadyState = { subtaskVersion, tenant: workflow.tenant };
    return { ...event, data: { ...event.data, carried } };
  });
}

/** The subtask row's version once `change` commits: inserted as is, patched once (+1), or untouched as read. */
function versionAfter(subtaskId: string, change: StateChange, before: Before): number | undefined {
  const inserted = change.insertSubtasks?.find((s) => s.id === subtaskId);
  if (inserted) return inserted.version;
  const patched = change.subtaskUpdates?.find((u) => u.id === subtaskId);
  if (patched) return patched.expectedVersion + 1;
  return before.subtasks?.find((s) => s.id === subtaskId)?.version;
}

/** The same event without its carried state: what assign runs on once the carried state proved stale. */
export function withoutCarriedState(event: OrchestrationEvent): OrchestrationEvent {
  if (!carriesState(event)) return event;
  const { carried: _stale, ...data } = event.data;
  return { ...event, data };
}

export const carriesState = (event: OrchestrationEvent): event is EventOf<'subtask.ready'> & { data: { carried: CarriedReadyState } } =>
  event.type === 'subtask.ready' && event.data.carried !== undefined;

/**
 * What the carried state says the subtask was (ready, unassigned, before this attempt, at that
 * version), for the state-change log: facts the commit's version check confirms, not a read.
 */
export function carriedBefore(event: OrchestrationEvent): Before {
  if (!carriesState(event)) return {};
  const { workflowId, subtaskId, attempt, carried } = event.data;
  return { subtasks: [{ id: subtaskId, workflowId, status: 'ready', assignedAgent: null, attempts: attempt - 1, version: carried.subtaskVersion }] };
}
