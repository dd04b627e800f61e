import { isoTime, subtaskAssigned, workflowCancelled, workflowCompleted, workflowFailed, type DataOf } from '../../shared/events/index.js';
import { terminalWorkflowStatuses } from '../../shared/domain/vocabulary.js';
import type { Subtask, Workflow } from '../../shared/domain/workflow.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import type { Effect } from '../../shared/ports/index.js';
import { OrchestrationError } from '../../shared/errors.js';
import { releasesOf, type CommonDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';
import { WorkingSet } from '../common/working-set.js';
import { approvalBeforeDelivery, approvalBeforeExecution, approvalStageOf, type ApprovalStage } from '../../shared/domain/approval.js';
import type { Config } from '../../shared/config.js';

/** The failure reason of a rejected plan or delivery; a repeated reject recognises its own decision by it. */
export const rejectedPrefix = 'rejected at approval';

/** The commands of the `workflow.command.requested` event (its schema is the one definition). */
export type ControlCommand = DataOf<'workflow.command.requested'>['command'];

/** No lease store and no directory: what a cancel frees, it returns as effects for after the commit. */
export interface ControlDeps extends CommonDeps {
  config: Pick<Config, 'ORCHESTRATION_PLAN_APPROVAL'>;
}

/** A command that does not fit the workflow's state (resume a running workflow…): HTTP 409. */
export class InvalidTransitionError extends OrchestrationError {
  constructor(command: ControlCommand, workflow: Workflow, detail = `a ${workflow.status} workflow`) {
    super('INVALID_TRANSITION', `cannot ${command} ${detail}`, { retriable: false });
  }
}

/**
 * User commands on a workflow. Cancel stops everything (leases and slots released after the commit, late results ignored);
 * pause stops new dispatches while running work finishes; resume re-queues what pause held back.
 * Approve and reject decide a workflow awaiting approval. Awaiting its plan's approval, approve starts
 * it (running; its ready subtasks go to assign) and reject fails it before anything ran; awaiting
 * delivery approval, approve completes it (workflow.completed) and reject fails it (workflow.failed; a
 * new submission re-runs the work). `stage`, when given, names the decision meant: an approval of a
 * plan that already runs changes nothing rather than approving its delivery later. Repeating the
 * decision already taken changes nothing; any other state is an invalid transition. Pause and resume
 * do not apply while a workflow awaits approval (nothing runs); cancel does.
 * `commandId` is the idempotency key of the command (a redelivered command changes nothing).
 */
export async function control(
  command: ControlCommand,
  workflowId: string,
  commandId: string,
  deps: ControlDeps,
  reason = 'cancelled by user',
  stage?: ApprovalStage,
): Promise<Outcome> {
  const workflow = await deps.store.getWorkflow(workflowId);
  if (!workflow) return nothing('unknown workflow');
  const out = new Emitter(deps, { id: commandId });
  const patch = (status: Workflow['status'], extra: Partial<Workflow> = {}) => ({
    workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status, ...extra } }],
  });

  if (command === 'cancel') {
    if (terminalWorkflowStatuses.includes(workflow.status)) throw new InvalidTransitionError(command, workflow);
    const work = new WorkingSet(await deps.store.getSubtasks(workflowId));
    const before = new Set(
      work
        .all()
        .filter((s) => s.status === 'cancelled')
        .map((s) => s.id),
    );
    const after: Effect[] = work.cancelOpen(reason).flatMap(releasesOf);
    const cancelledIds = work
      .all()
      .filter((s) => s.status === 'cancelled' && !before.has(s.id))
      .map((s) => s.id);
    out.emit(workflowCancelled, { workflowId, reason, cancelledSubtaskIds: cancelledIds });
    return {
      change: { ...patch('cancelled', { completedAt: isoTime(deps.clock.now()), failureReason: reason }), subtaskUpdates: work.updates() },
      emit: out.events,
      after,
    };
  }
  if (command === 'approve' || command === 'reject') return decide(command, workflow, out, deps, reason, stage);
  if (command === 'pause') {
    if (workflow.status !== 'running' && workflow.status !== 'pending' && workflow.status !== 'planned') throw new InvalidTransitionError(command, workflow);
    return { change: patch('paused'), emit: [] };
  }
  if (workflow.status !== 'paused') throw new InvalidTransitionError(command, workflow);
  requeue(await deps.store.getSubtasks(workflowId), out);
  return { change: patch('running'), emit: out.events };
}

/** Work that was held back (by pause, or until the plan was approved): ready subtasks go to assign again, assigned ones to dispatch. */
function requeue(subtasks: readonly Subtask[], out: Emitter): void {
  for (const subtask of subtasks) {
    if (subtask.status !== 'ready') continue;
    if (subtask.assignedAgent === null) out.ready(subtask);
    else
      out.emit(subtaskAssigned, {
        workflowId: subtask.workflowId,
        subtaskId: subtask.id,
        specialty: subtask.specialty,
        attempt: subtask.attempts + 1,
        agentId: subtask.assignedAgent,
      });
  }
}

async function decide(
  command: 'approve' | 'reject',
  workflow: Workflow,
  out: Emitter,
  deps: ControlDeps,
  reason: string,
  asked?: ApprovalStage,
): Promise<Outcome> {
  const workflowId = workflow.id;
  const subtasks = await deps.store.getSubtasks(workflowId);
  const stage = approvalStageOf(workflow, subtasks);
  if (stage === null || (asked !== undefined && asked !== stage)) {
    if (alreadyDecided(command, workflow, stage, deps.config.ORCHESTRATION_PLAN_APPROVAL, asked)) {
      return nothing(stage ? `the ${asked} is already approved; the workflow awaits ${stage} approval` : `workflow is already ${workflow.status}`);
    }
    throw new InvalidTransitionError(command, workflow, stage && asked ? `the ${asked} of a workflow awaiting ${stage} approval` : undefined);
  }
  const patch = (p: Partial<Workflow>) => ({ workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: p }] });
  const completedAt = isoTime(deps.clock.now());
  if (command === 'approve' && stage === 'plan') {
    requeue(subtasks, out);
    return { change: patch({ status: 'running' }), emit: out.events };
  }
  if (command === 'approve') {
    const averageQuality = subtasks.reduce((sum, s) => sum + (s.quality ?? 0), 0) / Math.max(1, subtasks.length);
    out.emit(workflowCompleted, { workflowId, subtaskCount: subtasks.length, averageQuality });
    return { change: patch({ status: 'completed', completedAt }), emit: out.events };
  }
  const failureReason = `${rejectedPrefix}: ${reason}`;
  // A rejected plan never ran: its subtasks are cancelled (they hold no agent or lease yet).
  const work = new WorkingSet(subtasks);
  const after = work.cancelOpen(failureReason).flatMap(releasesOf);
  out.emit(workflowFailed, { workflowId, reason: failureReason });
  return { change: { ...patch({ status: 'failed', failureReason, completedAt }), subtaskUpdates: work.updates() }, emit: out.events, after };
}

/** The decision asked for was taken already: an approval ran the plan or completed the delivery; a rejection failed the workflow. */
function alreadyDecided(
  command: 'approve' | 'reject',
  workflow: Workflow,
  stage: ApprovalStage | null,
  mode: ControlDeps['config']['ORCHESTRATION_PLAN_APPROVAL'],
  asked?: ApprovalStage,
): boolean {
  if (command === 'reject') return workflow.status === 'failed' && (workflow.failureReason ?? '').startsWith(rejectedPrefix);
  const planApproved =
    workflow.plan !== null &&
    approvalBeforeExecution(workflow.plan, mode) &&
    (['running', 'paused', 'completed'].includes(workflow.status) || stage === 'delivery');
  const deliveryApproved = workflow.status === 'completed' && approvalBeforeDelivery(workflow, mode);
  if (asked === 'plan') return planApproved;
  if (asked === 'delivery') return deliveryApproved;
  return planApproved || deliveryApproved;
}
