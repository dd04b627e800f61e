import { isoTime, subtaskAssigned, workflowCancelled, workflowCompleted, workflowFailed } from '../../shared/events/index.js';
import { terminalWorkflowStatuses } from '../../shared/domain/vocabulary.js';
import type { Workflow } from '../../shared/domain/workflow.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import type { AgentDirectory, LeaseStore } from '../../shared/ports/index.js';
import { OrchestrationError } from '../../shared/errors.js';
import { releaseHeld, type CommonDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';
import { WorkingSet } from '../common/working-set.js';
import { requiresApproval } from '../common/hierarchy.js';

/** The failure reason of a rejected delivery; a repeated reject recognises its own decision by it. */
export const rejectedPrefix = 'rejected at approval';

export type ControlCommand = 'cancel' | 'pause' | 'resume' | 'approve' | 'reject';

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
 * Approve and reject decide a workflow awaiting approval: approve completes it (workflow.completed),
 * reject fails it (workflow.failed; a new submission re-runs the work). Repeating the decision already
 * taken changes nothing; any other state is an invalid transition.
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
  if (command === 'approve' || command === 'reject') return decide(command, workflow, out, deps, reason);
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

async function decide(command: 'approve' | 'reject', workflow: Workflow, out: Emitter, deps: ControlDeps, reason: string): Promise<Outcome> {
  const workflowId = workflow.id;
  if (workflow.status !== 'awaiting_approval') {
    const alreadyApproved = command === 'approve' && workflow.status === 'completed' && requiresApproval(workflow);
    const alreadyRejected = command === 'reject' && workflow.status === 'failed' && (workflow.failureReason ?? '').startsWith(rejectedPrefix);
    if (alreadyApproved || alreadyRejected) return nothing(`workflow is already ${workflow.status}`);
    throw new InvalidTransitionError(command, workflow);
  }
  const completedAt = isoTime(deps.clock.now());
  const patch = (p: Partial<Workflow>) => ({ workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: p }] });
  if (command === 'approve') {
    const subtasks = await deps.store.getSubtasks(workflowId);
    const averageQuality = subtasks.reduce((sum, s) => sum + (s.quality ?? 0), 0) / Math.max(1, subtasks.length);
    out.emit(workflowCompleted, { workflowId, subtaskCount: subtasks.length, averageQuality });
    return { change: patch({ status: 'completed', completedAt }), emit: out.events };
  }
  const failureReason = `${rejectedPrefix}: ${reason}`;
  out.emit(workflowFailed, { workflowId, reason: failureReason });
  return { change: patch({ status: 'failed', failureReason, completedAt }), emit: out.events };
}
