import type { OrchestrationEvent } from '../events/catalog.js';
import type { WorkLineage, WorkOutcome } from './agent-directory.port.js';
import type { StateChange } from './workflow-store.port.js';

/**
 * What a commit makes true outside the store: run by the engine after the commit applied, never
 * before, so a commit that fails leaves the lease held and the slot taken for its retry. Each one
 * is idempotent (a stale token releases nothing; a slot and a work record count once per key).
 */
export type Effect =
  | { kind: 'releaseLease'; key: string; token: number }
  | { kind: 'releaseSlot'; agentId: string; workKey: string; outcome?: WorkOutcome }
  | { kind: 'recordWork'; agentId: string; subtaskId: string; workflowId: string; outcome: WorkOutcome; at: number; lineage?: WorkLineage };

/** What a pure handler returns: the state it changes and the events it emits, applied atomically by the runtime. */
export interface Outcome {
  change: Pick<StateChange, 'insertSubtasks' | 'workflowUpdates' | 'subtaskUpdates' | 'requireWorkflowStatus'>;
  emit: OrchestrationEvent[];
  /** Effects of the change, in order: the engine runs them once the commit applied (shared/engine/effects.ts). */
  after?: Effect[];
  /** Why nothing happened (duplicate, stale token, workflow not running...), for logs and tests. */
  skipped?: string;
}

export const nothing = (skipped: string): Outcome => ({ change: {}, emit: [], skipped });
