import { isoTime, workflowDecomposed, workflowFailed, type EventOf } from '../../shared/events/index.js';
import type { Outcome } from '../../shared/ports/index.js';
import { nothing } from '../../shared/ports/handler.port.js';
import { NotFoundError, OrchestrationError } from '../../shared/errors.js';
import type { Plan, Subtask } from '../../shared/domain/workflow.js';
import { terminalWorkflowStatuses } from '../../shared/domain/vocabulary.js';
import type { DecomposeDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';

export class DecompositionTimeoutError extends OrchestrationError {
  constructor(seconds: number) {
    super('DECOMPOSITION_TIMEOUT', `decomposition took longer than ${seconds}s`, { retriable: false });
  }
}

/** task.submitted → the plan's subtasks are stored; roots become ready. */
export async function decompose(event: EventOf<'task.submitted'>, deps: DecomposeDeps): Promise<Outcome> {
  const { workflowId, description } = event.data;
  const workflow = await deps.store.getWorkflow(workflowId);
  if (!workflow) throw new NotFoundError(`workflow ${workflowId}`);
  // Plans exactly once, whatever pause/resume did before it ran; a paused workflow stays paused.
  if (workflow.plan !== null) return nothing(`workflow is already planned and ${workflow.status}`);
  if (terminalWorkflowStatuses.includes(workflow.status)) return nothing(`workflow is already ${workflow.status}`);

  const out = new Emitter(deps, event);
  let plan: Plan;
  try {
    plan = await withTimeout(
      deps.planner.plan({ workflowId, description, maxSubtasks: deps.config.ORCHESTRATION_MAX_SUBTASKS }),
      deps.config.ORCHESTRATION_DECOMPOSITION_TIMEOUT,
    );
    if (plan.subtasks.length === 0) throw new OrchestrationError('EMPTY_PLAN', 'the planner produced no subtasks');
    if (plan.subtasks.length > deps.config.ORCHESTRATION_MAX_SUBTASKS) {
      throw new OrchestrationError('PLAN_TOO_LARGE', `plan has ${plan.subtasks.length} subtasks, limit is ${deps.config.ORCHESTRATION_MAX_SUBTASKS}`);
    }
  } catch (error) {
    if (error instanceof OrchestrationError && error.retriable) throw error;
    const reason = `decomposition failed: ${error instanceof Error ? error.message : String(error)}`;
    out.emit(workflowFailed, { workflowId, reason });
    return {
      change: { workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status: 'failed', failureReason: reason, completedAt: isoNow(deps) } }] },
      emit: out.events,
    };
  }

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
  for (const subtask of subtasks) if (subtask.status === 'ready') out.ready(subtask);

  return {
    change: {
      insertSubtasks: subtasks,
      workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status: workflow.status === 'paused' ? 'paused' : 'running', complexity: plan.complexity, plan } }],
    },
    emit: out.events,
  };
}

const isoNow = (deps: DecomposeDeps): string => isoTime(deps.clock.now());

async function withTimeout<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DecompositionTimeoutError(seconds)), seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
