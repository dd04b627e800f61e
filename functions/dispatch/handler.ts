import { isoTime, msOf, subtaskDispatched, type CarriedAssignedState, type EventOf } from '../../shared/events/index.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import { CarriedStateNotEnoughError, NotFoundError, OrchestrationError } from '../../shared/errors.js';
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
  const { workflowId, subtaskId, attempt, agentId, carried } = event.data;
  const state = carried ? carriedWork(carried) : await readWork(event, deps);
  if ('waitReason' in state) return nothing(state.waitReason);

  const lease = await deps.leases.acquire(leaseKeyOf(subtaskId), agentId, leaseTtlMs(deps.config));
  if (!lease) {
    // Decided without a read: a late redelivery meets a lease that moved on; the read tells which case this is.
    if (carried) throw new CarriedStateNotEnoughError(`lease of subtask ${subtaskId} is held: read before waiting for it`);
    throw new LeaseHeldError(subtaskId);
  }

  const now = deps.clock.now();
  const subtaskBudgetMs = state.estimatedMinutes * 60_000 * deps.config.ORCHESTRATION_SUBTASK_TIMEOUT_FACTOR;
  const workflowEndsAt = msOf(state.workflowCreatedAt) + deps.config.ORCHESTRATION_WORKFLOW_TIMEOUT * 3_600_000;
  const deadline = isoTime(Math.min(now + subtaskBudgetMs, Math.max(now, workflowEndsAt)));
  const inputs = state.dependsOn.length > 0 ? await inputsOf(workflowId, state.dependsOn, deps) : [];

  const out = new Emitter(deps, event);
  out.emit(subtaskDispatched, {
    workflowId,
    subtaskId,
    attempt,
    agentId,
    leaseToken: lease.token,
    deadline,
    task: { title: state.title, description: state.description, specialty: event.data.specialty, inputs, successCriteria: state.successCriteria },
  });
  return {
    change: {
      subtaskUpdates: [
        { id: subtaskId, expectedVersion: state.version, patch: { status: 'in_progress', attempts: attempt, leaseToken: lease.token, deadline } },
      ],
      // A pause or cancel committed after the read above (or after the carried state was written) wins: this commit conflicts, re-reads and skips.
      requireWorkflowStatus: { id: workflowId, status: 'running' },
    },
    emit: out.events,
  };
}

type Work = Pick<Subtask, 'title' | 'description' | 'successCriteria' | 'estimatedMinutes' | 'dependsOn' | 'version'> & { workflowCreatedAt: string };

/** The work as assign's commit wrote it (a subtask without dependencies); the commit checks the version. */
const carriedWork = (carried: CarriedAssignedState): Work => ({ ...carried.task, dependsOn: [], version: carried.subtaskVersion });

async function readWork(event: EventOf<'subtask.assigned'>, deps: DispatchDeps): Promise<Work | { waitReason: string }> {
  const { workflowId, subtaskId, attempt, agentId } = event.data;
  const [workflow, subtask] = await Promise.all([deps.store.getWorkflow(workflowId), deps.store.getSubtask(subtaskId)]);
  if (!workflow || !subtask) throw new NotFoundError(`subtask ${subtaskId} of workflow ${workflowId}`);
  if (subtask.status !== 'ready' || subtask.assignedAgent !== agentId || attempt !== subtask.attempts + 1) {
    return { waitReason: `subtask is ${subtask.status} for ${subtask.assignedAgent ?? 'nobody'} (attempt ${subtask.attempts})` };
  }
  if (workflow.status !== 'running') return { waitReason: `workflow is ${workflow.status}` };
  return { ...subtask, workflowCreatedAt: workflow.createdAt };
}

async function inputsOf(workflowId: string, dependsOn: readonly string[], deps: DispatchDeps) {
  const siblings = await deps.store.getSubtasks(workflowId);
  return siblings.filter((s) => dependsOn.includes(s.id)).map((s) => ({ subtaskId: s.id, output: s.output }));
}
