import { isoTime, subtaskAssigned, workflowCancelled } from '../../shared/events/index.js';
import { terminalWorkflowStatuses } from '../../shared/domain/vocabulary.js';
import type { Workflow } from '../../shared/domain/workflow.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import type { AgentDirectory, LeaseStore } from '../../shared/ports/index.js';
import { OrchestrationError } from '../../shared/errors.js';
import { releaseHeld, type CommonDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';
import { WorkingSet } from '../common/working-set.js';

export type ControlCommand = 'cancel' | 'pause' | 'resume';

export interface ControlDeps extends CommonDeps {
  leases: LeaseStore;
  directory: AgentDirectory;
}

/** A command that does not fit the workflow's state (resume a running workflow…): HTTP 409. */
export class InvalidTransitionError extends OrchestrationError {
  constructor(command: ControlCommand, workflow: Workflow) {
    super('INVALID_TRANSITION', `cannot ${command} a ${workflow.status} workflow`, { retriable: false });
  }
}

/**
 * User commands on a workflow. Cancel stops everything (leases released, late results ignored);
 * pause stops new dispatches while running work finishes; resume re-queues what pause held back.
 * `commandId` is the idempotency key of the command (a redelivered command changes nothing).
 */
export async function control(command: ControlCommand, workflowId: string, commandId: string, deps: ControlDeps, reason = 'cancelled by user'): Promise<Outcome> {
  const workflow = await deps.store.getWorkflow(workflowId);
  if (!workflow) return nothing('unknown workflow');
  const out = new Emitter(deps, { id: commandId });
  const patch = (status: Workflow['status'], extra: Partial<Workflow> = {}) => ({
    workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status, ...extra } }],
  });

  if (command === 'cancel') {
    if (terminalWorkflowStatuses.includes(workflow.status)) throw new InvalidTransitionError(command, workflow);
    const work = new WorkingSet(await deps.store.getSubtasks(workflowId));
    const before = new Set(work.all().filter((s) => s.status === 'cancelled').map((s) => s.id));
    for (const held of work.cancelOpen(reason)) await releaseHeld(held, deps.leases, deps.directory);
    const cancelledIds = work.all().filter((s) => s.status === 'cancelled' && !before.has(s.id)).map((s) => s.id);
    out.emit(workflowCancelled, { workflowId, reason, cancelledSubtaskIds: cancelledIds });
    return { change: { ...patch('cancelled', { completedAt: isoTime(deps.clock.now()), failureReason: reason }), subtaskUpdates: work.updates() }, emit: out.events };
  }
  if (command === 'pause') {
    if (workflow.status !== 'running' && workflow.status !== 'pending' && workflow.status !== 'planned') throw new InvalidTransitionError(command, workflow);
    return { change: patch('paused'), emit: [] };
  }
  if (workflow.status !== 'paused') throw new InvalidTransitionError(command, workflow);
  // Work that pause held back: ready subtasks go to assign again, assigned ones to dispatch.
  for (const subtask of await deps.store.getSubtasks(workflowId)) {
    if (subtask.status !== 'ready') continue;
    if (subtask.assignedAgent === null) out.ready(subtask);
    else out.emit(subtaskAssigned, { workflowId, subtaskId: subtask.id, specialty: subtask.specialty, attempt: subtask.attempts + 1, agentId: subtask.assignedAgent });
  }
  return { change: patch('running'), emit: out.events };
}
