import { isoTime, msOf, subtaskDispatched, type EventOf } from '../../shared/events/index.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import { NotFoundError, OrchestrationError } from '../../shared/errors.js';
import { leaseKeyOf, leaseTtlMs, type DispatchDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';

export class LeaseHeldError extends OrchestrationError {
  constructor(subtaskId: string) {
    // Another holder's lease is still live (a zombie attempt): it expires or is released, then this retries.
    super('LEASE_HELD', `lease of subtask ${subtaskId} is held by another agent`, { retriable: true });
  }
}

/** subtask.assigned → a fenced lease is taken and the work goes to the agent's inbox. */
export async function dispatch(event: EventOf<'subtask.assigned'>, deps: DispatchDeps): Promise<Outcome> {
  const { workflowId, subtaskId, attempt, agentId } = event.data;
  const [workflow, subtask] = await Promise.all([deps.store.getWorkflow(workflowId), deps.store.getSubtask(subtaskId)]);
  if (!workflow || !subtask) throw new NotFoundError(`subtask ${subtaskId} of workflow ${workflowId}`);
  if (subtask.status !== 'ready' || subtask.assignedAgent !== agentId || attempt !== subtask.attempts + 1) {
    return nothing(`subtask is ${subtask.status} for ${subtask.assignedAgent ?? 'nobody'} (attempt ${subtask.attempts})`);
  }
  if (workflow.status !== 'running') return nothing(`workflow is ${workflow.status}`);

  const lease = await deps.leases.acquire(leaseKeyOf(subtaskId), agentId, leaseTtlMs(deps.config));
  if (!lease) throw new LeaseHeldError(subtaskId);

  const now = deps.clock.now();
  const subtaskBudgetMs = subtask.estimatedMinutes * 60_000 * deps.config.ORCHESTRATION_SUBTASK_TIMEOUT_FACTOR;
  const workflowEndsAt = msOf(workflow.createdAt) + deps.config.ORCHESTRATION_WORKFLOW_TIMEOUT * 3_600_000;
  const deadline = isoTime(Math.min(now + subtaskBudgetMs, Math.max(now, workflowEndsAt)));

  const siblings = subtask.dependsOn.length > 0 ? await deps.store.getSubtasks(workflowId) : [];
  const inputs = siblings.filter((s) => subtask.dependsOn.includes(s.id)).map((s) => ({ subtaskId: s.id, output: s.output }));

  const out = new Emitter(deps, event);
  out.emit(subtaskDispatched, {
    workflowId,
    subtaskId,
    attempt,
    agentId,
    leaseToken: lease.token,
    deadline,
    task: { title: subtask.title, description: subtask.description, specialty: subtask.specialty, inputs, successCriteria: subtask.successCriteria },
  });
  return {
    change: {
      subtaskUpdates: [
        { id: subtaskId, expectedVersion: subtask.version, patch: { status: 'in_progress', attempts: attempt, leaseToken: lease.token, deadline } },
      ],
      // A pause or cancel committed after the read above wins: this commit conflicts, re-reads and skips.
      requireWorkflowStatus: { id: workflowId, status: 'running' },
    },
    emit: out.events,
  };
}
