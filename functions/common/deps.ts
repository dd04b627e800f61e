import type { Config } from '../../shared/config.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import { leaseKeyOf, workKeyOf } from '../../shared/domain/protocol.js';
import type { AgentDirectory, AgentSpawner, Clock, Ids, LeaseStore, Planner, WorkflowStore } from '../../shared/ports/index.js';

/** Handlers read state through the store but never write it: they return an Outcome. */
export type WorkflowReader = Pick<
  WorkflowStore,
  'getWorkflow' | 'getSubtask' | 'getSubtasks' | 'findWaitingSubtasks'
>;

export interface CommonDeps {
  store: WorkflowReader;
  clock: Clock;
  ids: Ids;
  /** The CloudEvents `source` of emitted events. */
  source: string;
}

export interface DecomposeDeps extends CommonDeps {
  planner: Planner;
  /** Where a plan awaiting approval sends its APPROVAL_REQUEST (the executive layer). */
  directory: Pick<AgentDirectory, 'list'>;
  config: Pick<Config, 'ORCHESTRATION_MAX_SUBTASKS' | 'ORCHESTRATION_DECOMPOSITION_TIMEOUT' | 'ORCHESTRATION_PLAN_APPROVAL' | 'ORCHESTRATION_WORKFLOW_BUDGET_USD'>;
}

export interface AssignDeps extends CommonDeps {
  directory: AgentDirectory;
  spawner?: AgentSpawner;
  config: Pick<
    Config,
    | 'ORCHESTRATION_MAX_AGENTS_PER_POOL'
    | 'ORCHESTRATION_MAX_TOTAL_AGENTS'
    | 'ORCHESTRATION_MAX_AGENT_SPAWN_RATE'
    | 'ORCHESTRATION_HEARTBEAT_INTERVAL'
    | 'ORCHESTRATION_AGENT_FAILURE_THRESHOLD'
    | 'ORCHESTRATION_MAX_TASKS_PER_AGENT'
    | 'ORCHESTRATION_PRIORITY_AGING_SECONDS'
    | 'ORCHESTRATION_TENANT_WEIGHTS'
  >;
}

export interface DispatchDeps extends CommonDeps {
  leases: LeaseStore;
  config: Pick<
    Config,
    'ORCHESTRATION_HEARTBEAT_INTERVAL' | 'ORCHESTRATION_SUBTASK_TIMEOUT_FACTOR' | 'ORCHESTRATION_WORKFLOW_TIMEOUT'
  >;
}

export interface CompleteDeps extends CommonDeps {
  leases: LeaseStore;
  directory: AgentDirectory;
  config: Pick<
    Config,
    | 'ORCHESTRATION_QUALITY_THRESHOLD'
    | 'ORCHESTRATION_RETRY_ATTEMPTS'
    | 'ORCHESTRATION_AGENT_FAILURE_THRESHOLD'
    | 'ORCHESTRATION_PRIORITY_AGING_SECONDS'
    | 'ORCHESTRATION_TENANT_WEIGHTS'
    | 'ORCHESTRATION_PLAN_APPROVAL'
    | 'ORCHESTRATION_WORKFLOW_BUDGET_USD'
  >;
}

export { leaseKeyOf, leaseTtlMs, workKeyOf } from '../../shared/domain/protocol.js';

/** Frees what an unfinished subtask holds: its lease (if dispatched) and its agent's slot. */
export async function releaseHeld(subtask: Subtask, leases: LeaseStore, directory: AgentDirectory): Promise<void> {
  if (subtask.assignedAgent === null) return;
  if (subtask.status === 'in_progress') {
    if (subtask.leaseToken !== null) await leases.release(leaseKeyOf(subtask.id), subtask.leaseToken);
    await directory.release(subtask.assignedAgent, workKeyOf(subtask.id, subtask.attempts));
  } else {
    // Assigned, not yet dispatched: the slot was reserved for the coming attempt.
    await directory.release(subtask.assignedAgent, workKeyOf(subtask.id, subtask.attempts + 1));
  }
}
