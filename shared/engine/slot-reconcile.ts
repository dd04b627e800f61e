import { parseWorkKey } from '../domain/protocol.js';
import { terminalSubtaskStatuses, terminalWorkflowStatuses } from '../domain/vocabulary.js';
import type { Subtask } from '../domain/workflow.js';
import type { AgentDirectory, WorkflowStore } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** How long a slot must look abandoned before it is freed: far beyond an assign's reserve → commit. */
export const defaultSlotGraceMs = 30_000;

export interface SlotReconcileOptions {
  store: Pick<WorkflowStore, 'getSubtasksById' | 'getWorkflowsById'>;
  directory: Pick<AgentDirectory, 'heldWork' | 'release'>;
  logger: Logger;
  metrics?: Pick<Metrics, 'slotsReconciled'>;
  slotGraceMs?: number;
}

/**
 * Whether the store still has the agent doing this attempt: the same bookkeeping as releasesOf
 * (functions/common/deps.ts) — assigned, not dispatched, holds the coming attempt's key; in progress
 * holds the current attempt's.
 */
function holds(subtask: Subtask | null, agentId: string, attempt: number): boolean {
  if (!subtask || terminalSubtaskStatuses.includes(subtask.status) || subtask.assignedAgent !== agentId) return false;
  return subtask.status === 'in_progress' ? subtask.attempts === attempt : subtask.attempts + 1 === attempt;
}

/**
 * Frees agent slots whose release effect was lost: a process that dies between a commit and its
 * post-commit effects leaves the slot taken, and the agent with less capacity, until the directory
 * is rebuilt. A slot is freed once it has looked abandoned (the store no longer has that agent on
 * that attempt, or its workflow ended) on two passes at least `slotGraceMs` apart, so an assign that
 * reserved and has not committed yet is not raced. Releasing by work key is idempotent: a release
 * that ran meanwhile makes this one a no-op. The outcome of the lost release is not known here, so
 * the agent's track record misses it.
 */
export function createSlotReconciler(options: SlotReconcileOptions) {
  const { store, directory, logger, metrics } = options;
  const graceMs = options.slotGraceMs ?? defaultSlotGraceMs;
  /** `agent workKey` → when it was first seen abandoned. */
  const suspects = new Map<string, number>();

  /**
   * The held slots that look abandoned now: the store no longer has the agent on that attempt, or
   * its workflow ended. Two reads for the whole pass (the subtasks, then their workflows), however
   * many slots are held. A work key this system did not make is not ours to judge.
   */
  async function abandonedSlots(): Promise<{ agentId: string; workKey: string }[]> {
    const slots = (await directory.heldWork()).map((slot) => ({ ...slot, ...parseWorkKey(slot.workKey) }));
    const ours = slots.filter((slot) => slot.subtaskId && Number.isInteger(slot.attempt));
    const subtasks = new Map((await store.getSubtasksById([...new Set(ours.map((slot) => slot.subtaskId))])).map((s) => [s.id, s]));
    const held = new Set(ours.filter((slot) => holds(subtasks.get(slot.subtaskId) ?? null, slot.agentId, slot.attempt)));
    const workflowIds = [...new Set([...held].map((slot) => subtasks.get(slot.subtaskId)!.workflowId))];
    const ended = new Set((await store.getWorkflowsById(workflowIds)).filter((w) => terminalWorkflowStatuses.includes(w.status)).map((w) => w.id));
    return ours.filter((slot) => !held.has(slot) || ended.has(subtasks.get(slot.subtaskId)!.workflowId)).map(({ agentId, workKey }) => ({ agentId, workKey }));
  }

  /** One pass at `now`: the number of slots freed. */
  return async function reconcile(now: number): Promise<number> {
    const stillSuspect = new Set<string>();
    let freed = 0;
    for (const { agentId, workKey } of await abandonedSlots()) {
      const key = `${agentId} ${workKey}`;
      const since = suspects.get(key) ?? now;
      if (now - since < graceMs) {
        suspects.set(key, since);
        stillSuspect.add(key);
        continue;
      }
      await directory.release(agentId, workKey);
      suspects.delete(key);
      freed++;
      metrics?.slotsReconciled.inc();
      logger.warn('freed an agent slot the store no longer holds (its release was lost)', { agentId, workKey, abandonedForMs: now - since });
    }
    for (const key of suspects.keys()) if (!stillSuspect.has(key)) suspects.delete(key);
    return freed;
  };
}
