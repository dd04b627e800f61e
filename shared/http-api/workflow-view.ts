import type { Subtask, Workflow } from '../domain/workflow.js';
import type { PlanProvenanceView, WorkflowUsageView } from '../api/usage.js';
import { approvalStageOf } from '../domain/approval.js';

/** Progress counts by subtask status (also what the console recomputes as changes stream in). */
export function progressOf(subtasks: readonly Pick<Subtask, 'status'>[]) {
  const count = (status: Subtask['status']) => subtasks.filter((s) => s.status === status).length;
  const completed = count('completed');
  return {
    total: subtasks.length,
    completed,
    inProgress: count('in_progress'),
    ready: count('ready'),
    pending: count('pending'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    percent: subtasks.length === 0 ? 0 : Math.round((completed / subtasks.length) * 100),
  };
}

/** The API's view of a workflow: lower-case statuses, progress, and each subtask's state; `budgetUsd` 0 is no limit. */
export function workflowView(workflow: Workflow, subtasks: readonly Subtask[], budgetUsd = 0) {
  const usage: WorkflowUsageView = { ...workflow.usage, budgetUsd: budgetUsd > 0 ? budgetUsd : null };
  // Plans from before provenance was recorded were all deterministic.
  const provenance: PlanProvenanceView = workflow.plan?.provenance ?? { planner: 'deterministic' };
  return {
    workflowId: workflow.id,
    description: workflow.description,
    status: workflow.status,
    /** While awaiting_approval: whether the plan (nothing has run) or the delivery waits for the decision. */
    approvalStage: approvalStageOf(workflow, subtasks),
    priority: workflow.priority,
    complexity: workflow.complexity,
    metadata: workflow.metadata,
    createdAt: workflow.createdAt,
    updatedAt: workflow.updatedAt,
    completedAt: workflow.completedAt,
    failureReason: workflow.failureReason,
    plan: workflow.plan && {
      confidence: workflow.plan.confidence,
      patterns: workflow.plan.patterns,
      estimatedHours: workflow.plan.estimatedHours,
      estimatedCost: workflow.plan.estimatedCost,
      risk: workflow.plan.risk,
      approvalRequired: workflow.plan.approvalRequired,
      phases: workflow.plan.phases,
      qualityGates: workflow.plan.qualityGates,
      provenance,
    },
    usage,
    progress: progressOf(subtasks),
    subtasks: subtasks.map((s) => ({
      id: s.id,
      title: s.title,
      specialty: s.specialty,
      phase: s.phase,
      status: s.status,
      assignedAgent: s.assignedAgent,
      attempts: s.attempts,
      dependsOn: s.dependsOn,
      quality: s.quality,
      deadline: s.deadline,
      lastError: s.lastError,
      output: s.output,
    })),
  };
}
