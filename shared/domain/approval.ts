import type { Config } from '../config.js';
import type { Subtask, Workflow } from './workflow.js';

export type PlanApproval = Config['ORCHESTRATION_PLAN_APPROVAL'];

/** The decision an `awaiting_approval` workflow waits for: its plan (nothing has run yet) or its delivery. */
export type ApprovalStage = 'plan' | 'delivery';
export const approvalStages = ['plan', 'delivery'] as const satisfies readonly ApprovalStage[];

type Gated = Pick<Workflow, 'metadata'> & { plan: Pick<NonNullable<Workflow['plan']>, 'approvalRequired'> | null };

/** The plan must be approved before any of its subtasks is dispatched. */
export const approvalBeforeExecution = (plan: Pick<NonNullable<Workflow['plan']>, 'approvalRequired'>, mode: PlanApproval): boolean =>
  mode === 'BEFORE_EXECUTION' && plan.approvalRequired;

/**
 * The finished work waits for approval before the workflow completes: the submitter asked for it
 * (task.submitted's `requireApproval`, kept in metadata since the row has no column for it), or the
 * plan asks for it and approval is configured before delivery.
 */
export const approvalBeforeDelivery = (workflow: Gated, mode: PlanApproval): boolean =>
  workflow.metadata.requireApproval === true || (mode === 'BEFORE_DELIVERY' && workflow.plan?.approvalRequired === true);

/**
 * Derived rather than stored: a workflow awaits delivery approval only once every subtask completed,
 * and nothing is dispatched while it awaits plan approval, so the subtasks tell the two apart (a plan
 * always has at least one subtask). Null when the workflow awaits no approval.
 */
export function approvalStageOf(workflow: Pick<Workflow, 'status'>, subtasks: readonly Pick<Subtask, 'status'>[]): ApprovalStage | null {
  if (workflow.status !== 'awaiting_approval') return null;
  return subtasks.length > 0 && subtasks.every((s) => s.status === 'completed') ? 'delivery' : 'plan';
}
