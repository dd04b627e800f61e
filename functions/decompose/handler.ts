import { isoTime, workflowDecomposed, workflowFailed, type EventOf } from '../../shared/events/index.js';
import type { Outcome } from '../../shared/ports/index.js';
import { nothing } from '../../shared/ports/handler.port.js';
import { NotFoundError } from '../../shared/errors.js';
import type { Plan, Subtask, WorkflowPatch } from '../../shared/domain/workflow.js';
import { budgetExceededReason, budgetExhausted, budgetLeft, overBudget } from '../../shared/domain/budget.js';
import { addUsage, type ModelUsage } from '../../shared/domain/usage.js';
import { terminalWorkflowStatuses, type Priority } from '../../shared/domain/vocabulary.js';
import { approvalBeforeExecution } from '../../shared/domain/approval.js';
import type { DecomposeDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';
import { deliveryExecutive, emitMessage } from '../common/hierarchy.js';
import { planWithin } from './plan-within.js';

/**
 * task.submitted → the plan's subtasks are stored; roots become ready. A plan that requires approval
 * (ORCHESTRATION_PLAN_APPROVAL=BEFORE_EXECUTION) leaves the workflow awaiting_approval instead: its
 * roots are ready but nobody is told (no subtask.ready) until an approver approves; the executive
 * layer gets an APPROVAL_REQUEST. Approval outranks an earlier pause: nothing runs either way.
 */
export async function decompose(event: EventOf<'task.submitted'>, deps: DecomposeDeps): Promise<Outcome> {
  const { workflowId, description } = event.data;
  const workflow = await deps.store.getWorkflow(workflowId);
  if (!workflow) throw new NotFoundError(`workflow ${workflowId}`);
  // Plans exactly once, whatever pause/resume did before it ran; a paused workflow stays paused.
  if (workflow.plan !== null) return nothing(`workflow is already planned and ${workflow.status}`);
  if (terminalWorkflowStatuses.includes(workflow.status)) return nothing(`workflow is already ${workflow.status}`);

  const out = new Emitter(deps, event);
  const fail = (reason: string, patch: WorkflowPatch = {}): Outcome => {
    out.emit(workflowFailed, { workflowId, reason });
    return {
      change: {
        workflowUpdates: [
          { id: workflowId, expectedVersion: workflow.version, patch: { ...patch, status: 'failed', failureReason: reason, completedAt: isoNow(deps) } },
        ],
      },
      emit: out.events,
    };
  };
  const budget = deps.config.ORCHESTRATION_WORKFLOW_BUDGET_USD;
  // A workflow with nothing left to spend does not call the planner (it may call a model).
  if (budgetExhausted(workflow.usage, budget)) return fail(budgetExceededReason(workflow.usage, budget));
  const left = budgetLeft(workflow.usage, budget);

  const planning = await planWithin(
    deps.planner,
    { workflowId, description, maxSubtasks: deps.config.ORCHESTRATION_MAX_SUBTASKS, ...(left === undefined ? {} : { budgetUsd: left }) },
    deps.config.ORCHESTRATION_DECOMPOSITION_TIMEOUT,
  );
  if (!planning.ok) return fail(planning.reason, planning.usage ? { usage: addUsage(workflow.usage, planning.usage) } : {});
  const { plan } = planning;
  // What planning spent is the workflow's, whichever planner's plan is kept.
  const usage: ModelUsage | undefined = plan.provenance?.usage && addUsage(workflow.usage, plan.provenance.usage);
  if (usage && overBudget(usage, budget)) return fail(budgetExceededReason(usage, budget), { usage, complexity: plan.complexity, plan });

  const now = isoNow(deps);
  const subtasks: Subtask[] = plan.subtasks.map((planned) => ({
    ...planned,
    workflowId,
    status: planned.dependsOn.length === 0 ? 'ready' : 'pending',
    assignedAgent: null,
    attempts: 0,
    leaseToken: null,
    deadline: null,
    quality: null,
    output: null,
    lastError: null,
    version: 1,
    updatedAt: now,
  }));

  out.emit(workflowDecomposed, {
    workflowId,
    complexity: plan.complexity,
    confidence: plan.confidence,
    subtaskIds: subtasks.map((s) => s.id),
    estimatedHours: plan.estimatedHours,
    risk: plan.risk,
    approvalRequired: plan.approvalRequired,
  });
  const awaitsApproval = approvalBeforeExecution(plan, deps.config.ORCHESTRATION_PLAN_APPROVAL);
  if (awaitsApproval) await requestPlanApproval(out, deps, event.id, workflow.priority, workflowId, plan);
  else for (const subtask of subtasks) if (subtask.status === 'ready') out.ready(subtask);

  const status = awaitsApproval ? 'awaiting_approval' : workflow.status === 'paused' ? 'paused' : 'running';
  return {
    change: {
      insertSubtasks: subtasks,
      workflowUpdates: [
        { id: workflowId, expectedVersion: workflow.version, patch: { status, complexity: plan.complexity, plan, ...(usage ? { usage } : {}) } },
      ],
    },
    emit: out.events,
  };
}

const isoNow = (deps: DecomposeDeps): string => isoTime(deps.clock.now());

async function requestPlanApproval(out: Emitter, deps: DecomposeDeps, causeId: string, priority: Priority, workflowId: string, plan: Plan): Promise<void> {
  const executive = await deliveryExecutive(deps.directory);
  if (!executive) return;
  emitMessage(out, deps, causeId, {
    recipientId: executive.id,
    messageType: 'APPROVAL_REQUEST',
    priority,
    n: out.events.length,
    payload: {
      stage: 'plan',
      workflowId,
      complexity: plan.complexity,
      risk: plan.risk,
      estimatedHours: plan.estimatedHours,
      estimatedCost: plan.estimatedCost,
      subtaskCount: plan.subtasks.length,
      approve: `/v1/workflows/${workflowId}/approve`,
      reject: `/v1/workflows/${workflowId}/reject`,
    },
  });
}
