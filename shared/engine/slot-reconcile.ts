import { parseWorkKey } from '../domain/protocol.js';
import { terminalSubtaskStatuses, terminalWorkflowStatuses } from '../domain/vocabulary.js';
import type { Subtask } from '../domain/workflow.js';
import type { AgentDirectory, WorkflowStore } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** How long a slot must look abandoned before it is freed: far beyond an assign's reserve → commit. */
export const defaultSlotGraceMs = 30_000;

export interface SlotReconcileOptions {
  store: Pick<WorkflowStore, 'getSubtask' | 'getWorkflow'>;
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

  async function abandoned(agentId: string, workKey: string, workflowEnded: (workflowId: string) => Promise<boolean>): Promise<boolean> {
    const { subtaskId, attempt } = parseWorkKey(workKey);
    // Not a work key this system made: not ours to judge.
    if (!subtaskId || !Number.isInteger(attempt)) return false;
    const subtask = await store.getSubtask(subtaskId);
    if (!holds(subtask, agentId, attempt)) return true;
    return workflowEnded(subtask!.workflowId);
  }

  /** One pass at `now`: the number of slots freed. */
  return async function reconcile(now: number): Promise<number> {
    const ended = new Map<string, Promise<boolean>>();
    const workflowEnded = (workflowId: string): Promise<boolean> => {
      const known = ended.get(workflowId) ?? store.getWorkflow(workflowId).then((w) => w !== null && terminalWorkflowStatuses.includes(w.status));
      ended.set(workflowId, known);
      return known;
    };
    const stillSuspect = new Set<string>();
    let freed = 0;
    for (const { agentId, workKey } of await directory.heldWork()) {
      if (!(await abandoned(agentId, workKey, workflowEnded))) continue;
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
