import type { Effect, WorkOutcome } from '../../shared/ports/index.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import { leaseKeyOf, workKeyOf, type DirectoryReader } from '../common/deps.js';

export interface OwnResult {
  workflowId: string;
  subtask: Subtask;
  agentId: string;
  attempt: number;
  leaseToken: number;
  outcome: WorkOutcome;
  /** A result with an output (subtask.completed), accepted or not. */
  produced: boolean;
  at: number;
}

/** A current result frees its lease and its agent's slot (booking the outcome) and is recorded as WORKED_ON, once committed. */
export function ownResultEffects(result: OwnResult): Effect[] {
  const { workflowId, subtask, agentId, attempt, outcome } = result;
  return [
    { kind: 'releaseLease', key: leaseKeyOf(subtask.id), token: result.leaseToken },
    { kind: 'releaseSlot', agentId, workKey: workKeyOf(subtask.id, attempt), outcome },
    {
      kind: 'recordWork',
      agentId,
      subtaskId: subtask.id,
      workflowId,
      outcome,
      at: result.at,
      lineage: { attempt, dependsOn: subtask.dependsOn, produced: result.produced },
    },
  ];
}

/**
 * The directory as it will read once this result's slot release books its outcome (after the
 * commit): an escalation reports the agent's failure streak with this result in it.
 */
export function countingOwnResult(directory: DirectoryReader, agentId: string, outcome: WorkOutcome): DirectoryReader {
  return {
    ...directory,
    get: async (id) => {
      const agent = await directory.get(id);
      if (!agent || id !== agentId) return agent;
      return { ...agent, consecutiveFailures: outcome.success ? 0 : agent.consecutiveFailures + 1 };
    },
  };
}
