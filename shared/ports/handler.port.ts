import type { OrchestrationEvent } from '../events/catalog.js';
import type { StateChange } from './workflow-store.port.js';

/** What a pure handler returns: the state it changes and the events it emits, applied atomically by the runtime. */
export interface Outcome {
  change: Pick<StateChange, 'insertSubtasks' | 'workflowUpdates' | 'subtaskUpdates' | 'requireWorkflowStatus'>;
  emit: OrchestrationEvent[];
  /** Why nothing happened (duplicate, stale token, workflow not running...), for logs and tests. */
  skipped?: string;
}

export const nothing = (skipped: string): Outcome => ({ change: {}, emit: [], skipped });
