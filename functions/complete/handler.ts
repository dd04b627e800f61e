import { isoTime, workflowCompleted, workflowFailed, type EventOf } from '../../shared/events/index.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import type { Effect } from '../../shared/ports/index.js';
import { NotFoundError } from '../../shared/errors.js';
import type { Subtask, Workflow, WorkflowPatch } from '../../shared/domain/workflow.js';
import { waitingOrderOf } from '../../shared/domain/scheduling.js';
import type { Specialty } from '../../shared/domain/vocabulary.js';
import { freeSlots } from '../assign/queue.js';
import { releasesOf, type CompleteDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';
import { WorkingSet } from '../common/working-set.js';
import { deliveryExecutive, emitMessage, escalateFailure } from '../common/hierarchy.js';
import { approvalBeforeDelivery } from '../../shared/domain/approval.js';
import { budgetExceededReason, overBudget } from '../../shared/domain/budget.js';
import { addUsage } from '../../shared/domain/usage.js';
import { evaluatePhaseGate } from './quality-gate.js';
import { countingOwnResult, ownResultEffects } from './own-result.js';

type ResultEvent = EventOf<'subtask.completed'> | EventOf<'subtask.failed'>;

/**
 * subtask.completed / subtask.failed → the result is recorded if its fencing token is current; a
 * result below the quality threshold or a failure re-runs the subtask on another agent (up to
 * ORCHESTRATION_RETRY_ATTEMPTS); phase gates fire when a phase closes; dependents are released; the
 * last subtask completes the workflow, or (requireApproval) asks the executive layer for approval.
 * Every result is recorded as WORKED_ON; a subtask's second failure is escalated up REPORTS_TO.
 * Releases (its lease, its slot, those of subtasks it cancels) and the WORKED_ON record are returned
 * as effects: the engine runs them once the commit applied, so a failed commit's retry finds them held.
 */
export async function complete(event: ResultEvent, deps: CompleteDeps): Promise<Outcome> {
  const { workflowId, subtaskId, attempt, agentId, leaseToken } = event.data;
  const [workflow, subtasks] = await Promise.all([deps.store.getWorkflow(workflowId), deps.store.getSubtasks(workflowId)]);
  const subtask = subtasks.find((s) => s.id === subtaskId);
  if (!workflow || !subtask) throw new NotFoundError(`subtask ${subtaskId} of workflow ${workflowId}`);
  // What the agent spent on a model is the workflow's, even for a stale result: it was spent either way.
  const usage = event.data.usage && addUsage(workflow.usage, event.data.usage);
  if (subtask.status !== 'in_progress' || subtask.attempts !== attempt || subtask.leaseToken !== leaseToken || subtask.assignedAgent !== agentId) {
    const stale = nothing(
      `stale result: subtask is ${subtask.status}, attempt ${subtask.attempts}, token ${subtask.leaseToken}; result has attempt ${attempt}, token ${leaseToken}`,
    );
    return usage ? { ...stale, change: { workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { usage } }] } } : stale;
  }

  const passed = event.type === 'subtask.completed' && event.data.quality >= deps.config.ORCHESTRATION_QUALITY_THRESHOLD;
  const outcome = {
    success: passed,
    quality: event.type === 'subtask.completed' ? event.data.quality : 0,
    durationMs: event.type === 'subtask.completed' ? event.data.durationMs : 0,
  };
  const after: Effect[] = ownResultEffects({
    workflowId,
    subtask,
    agentId,
    attempt,
    leaseToken,
    outcome,
    produced: event.type === 'subtask.completed',
    at: deps.clock.now(),
  });
  const directory = countingOwnResult(deps.directory, agentId, outcome);

  const work = new WorkingSet(subtasks);
  const out = new Emitter(deps, event);
  const maxAttempts = 1 + deps.config.ORCHESTRATION_RETRY_ATTEMPTS;
  let workflowPatch: WorkflowPatch | undefined;

  const failWorkflow = (reason: string, failedSubtaskId?: string) => {
    for (const held of work.cancelOpen(`workflow failed: ${reason}`)) after.push(...releasesOf(held));
    workflowPatch = { status: 'failed', failureReason: reason, completedAt: isoTime(deps.clock.now()) };
    out.emit(workflowFailed, { workflowId, reason, ...(failedSubtaskId ? { failedSubtaskId } : {}) });
  };
  const rerunOrFail = async (target: Subtask, reason: string) => {
    // Every attempt before this one failed too (or it would not have been re-run): two or more is an escalation.
    if (target.attempts >= 2 && target.assignedAgent) {
      const reasons = [target.lastError, reason].filter((r): r is string => typeof r === 'string' && r.length > 0);
      await escalateFailure(out, { ...deps, directory, failureThreshold: deps.config.ORCHESTRATION_AGENT_FAILURE_THRESHOLD }, event.id, {
        workflowId,
        subtaskId: target.id,
        specialty: target.specialty,
        agentId: target.assignedAgent,
        attempts: target.attempts,
        maxAttempts,
        reasons,
        retrying: target.attempts < maxAttempts,
      });
    }
    if (target.attempts < maxAttempts) {
      const avoid = target.assignedAgent ? [target.assignedAgent] : [];
      out.ready(work.set(target.id, { status: 'ready', assignedAgent: null, leaseToken: null, deadline: null, lastError: reason }), avoid);
    } else {
      work.set(target.id, { status: 'failed', lastError: `${reason} (after ${target.attempts} attempts)` });
      failWorkflow(`subtask ${target.id} failed after ${target.attempts} attempts: ${reason}`, target.id);
    }
  };

  const budget = deps.config.ORCHESTRATION_WORKFLOW_BUDGET_USD;
  if (usage && overBudget(usage, budget)) {
    // This result is kept; nothing more runs: the open subtasks are cancelled and what they hold released.
    work.set(
      subtaskId,
      passed
        ? { status: 'completed', quality: event.data.quality, output: event.data.output, lastError: null }
        : { status: 'failed', lastError: 'the workflow ran out of budget' },
    );
    failWorkflow(budgetExceededReason(usage, budget));
  } else if (!passed) {
    const reason =
      event.type === 'subtask.failed'
        ? `${event.data.cause}: ${event.data.reason}`
        : `quality ${event.data.quality} below threshold ${deps.config.ORCHESTRATION_QUALITY_THRESHOLD}`;
    // What this result scored (none for a failure): the attempt history records it with the outcome.
    work.set(subtaskId, { quality: event.type === 'subtask.completed' ? event.data.quality : null });
    await rerunOrFail(subtask, reason);
  } else {
    work.set(subtaskId, { status: 'completed', quality: event.data.quality, output: event.data.output, lastError: null });
    const gate = evaluatePhaseGate(workflow, work.all(), subtask.phase);
    if (gate && !gate.passed) {
      await rerunOrFail(gate.weakest, `quality gate ${gate.name} scored ${gate.score.toFixed(3)} below ${gate.threshold}`);
    } else {
      workflowPatch = await releaseDependents(workflow, work, out, deps, event.id);
    }
  }

  await kickWaitingWork(agentId, work, out, deps);
  return {
    change: {
      subtaskUpdates: work.updates(),
      ...(workflowPatch || usage
        ? { workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { ...workflowPatch, ...(usage ? { usage } : {}) } }] }
        : {}),
    },
    emit: out.events,
    after,
  };
}

/**
 * Pending subtasks whose dependencies all completed (in closed phases) become ready; all done completes
 * the workflow, unless it was submitted with requireApproval, or its plan requires approval and
 * ORCHESTRATION_PLAN_APPROVAL=BEFORE_DELIVERY: then it awaits the executive's decision.
 */
async function releaseDependents(workflow: Workflow, work: WorkingSet, out: Emitter, deps: CompleteDeps, causeId: string): Promise<WorkflowPatch | undefined> {
  const all = work.all();
  const phaseClosed = (phase: string) => all.filter((s) => s.phase === phase).every((s) => s.status === 'completed');
  for (const candidate of all) {
    if (candidate.status !== 'pending') continue;
    const dependencies = candidate.dependsOn.map((id) => work.get(id));
    if (dependencies.every((d) => d && d.status === 'completed' && phaseClosed(d.phase))) {
      out.ready(work.set(candidate.id, { status: 'ready' }));
    }
  }
  if (!all.every((s) => s.status === 'completed')) return undefined;
  const averageQuality = all.reduce((sum, s) => sum + (s.quality ?? 0), 0) / all.length;
  if (approvalBeforeDelivery(workflow, deps.config.ORCHESTRATION_PLAN_APPROVAL)) {
    const executive = await deliveryExecutive(deps.directory);
    if (executive) {
      emitMessage(out, deps, causeId, {
        recipientId: executive.id,
        messageType: 'APPROVAL_REQUEST',
        priority: workflow.priority,
        n: out.events.length,
        payload: {
          stage: 'delivery',
          workflowId: workflow.id,
          subtaskCount: all.length,
          averageQuality,
          approve: `/v1/workflows/${workflow.id}/approve`,
          reject: `/v1/workflows/${workflow.id}/reject`,
        },
      });
    }
    return { status: 'awaiting_approval' };
  }
  out.emit(workflowCompleted, { workflowId: workflow.id, subtaskCount: all.length, averageQuality });
  return { status: 'completed', completedAt: isoTime(deps.clock.now()) };
}

/**
 * A slot was freed: wake one subtask (of any workflow) that waits for this agent's specialties. A
 * tenant's own agent asks only for its tenant's work: other tenants' backlog, which it may not take,
 * would otherwise fill the first places and its own work would wait for the recovery loop.
 * Slots of these specialties that were already free (this one is released after the commit) were
 * each freed by a result that woke a waiting subtask, or met no waiting one: the first that many
 * waiting subtasks have their wake-ups on the way. This slot wakes the next one, and none when the
 * queue is no longer than the free slots, instead of the first again (a wake-up that assign skips).
 */
async function kickWaitingWork(agentId: string, work: WorkingSet, out: Emitter, deps: CompleteDeps): Promise<void> {
  const agent = await deps.directory.get(agentId);
  if (!agent) return;
  const alreadyFree = await freeSlotsOf(agent.specialties, agent.tenant, deps);
  if (alreadyFree > MAX_WAKE_LOOKAHEAD) return; // capacity is plentiful: nothing waits long enough to need waking
  const order = waitingOrderOf(deps.config, deps.clock.now());
  const waiting = await deps.store.findWaitingSubtasks(
    agent.specialties,
    alreadyFree + 4,
    agent.tenant === undefined ? order : { ...order, tenant: agent.tenant },
  );
  const next = waiting.filter((s) => !work.get(s.id))[alreadyFree];
  if (next) out.ready(next);
}

/** Past this many free slots no subtask waits for a wake-up (assign takes a free slot at once). */
const MAX_WAKE_LOOKAHEAD = 32;

/** Free slots, before this result's release, among the healthy agents of these specialties (each agent once). */
async function freeSlotsOf(specialties: readonly Specialty[], tenant: string | undefined, deps: CompleteDeps): Promise<number> {
  const pools = await Promise.all(specialties.map((specialty) => deps.directory.candidates(specialty, tenant)));
  const agents = new Map(pools.flat().map((agent) => [agent.id, agent]));
  return freeSlots([...agents.values()], deps);
}
