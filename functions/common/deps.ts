import type { Config } from '../../shared/config.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import { leaseKeyOf, workKeyOf } from '../../shared/domain/protocol.js';
import type { AgentDirectory, AgentSpawner, Clock, Effect, Ids, LeaseStore, Planner, WorkflowStore } from '../../shared/ports/index.js';

/** Handlers read state through the store but never write it: they return an Outcome. */
export type WorkflowReader = Pick<WorkflowStore, 'getWorkflow' | 'getSubtask' | 'getSubtasks' | 'findWaitingSubtasks'>;

/** The agent directory as a handler that only decides sees it: what it releases, it returns as effects. */
export type DirectoryReader = Pick<AgentDirectory, 'get' | 'list' | 'supervisorOf' | 'leadFor' | 'candidates'>;

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
  config: Pick<
    Config,
    'ORCHESTRATION_MAX_SUBTASKS' | 'ORCHESTRATION_DECOMPOSITION_TIMEOUT' | 'ORCHESTRATION_PLAN_APPROVAL' | 'ORCHESTRATION_WORKFLOW_BUDGET_USD'
  >;
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
  config: Pick<Config, 'ORCHESTRATION_LEASE_TTL_SECONDS' | 'ORCHESTRATION_SUBTASK_TIMEOUT_FACTOR' | 'ORCHESTRATION_WORKFLOW_TIMEOUT'>;
}

export interface CompleteDeps extends CommonDeps {
  directory: DirectoryReader;
  config: Pick<
    Config,
    | 'ORCHESTRATION_QUALITY_THRESHOLD'
    | 'ORCHESTRATION_RETRY_ATTEMPTS'
    | 'ORCHESTRATION_AGENT_FAILURE_THRESHOLD'
    | 'ORCHESTRATION_PRIORITY_AGING_SECONDS'
    | 'ORCHESTRATION_TENANT_WEIGHTS'
    | 'ORCHESTRATION_PLAN_APPROVAL'
    | 'ORCHESTRATION_WORKFLOW_BUDGET_USD'
    | 'ORCHESTRATION_HEARTBEAT_INTERVAL'
    | 'ORCHESTRATION_MAX_TASKS_PER_AGENT'
  >;
}

export { leaseKeyOf, leaseTtlMs, workKeyOf } from '../../shared/domain/protocol.js';

/** What freeing an unfinished subtask's holdings takes once its cancellation commits: its lease (if dispatched) and its agent's slot. */
export function releasesOf(subtask: Subtask): Effect[] {
  if (subtask.assignedAgent === null) return [];
  if (subtask.status !== 'in_progress') {
    // Assigned, not yet dispatched: the slot was reserved for the coming attempt.
    return [{ kind: 'releaseSlot', agentId: subtask.assignedAgent, workKey: workKeyOf(subtask.id, subtask.attempts + 1) }];
  }
  const lease: Effect[] = subtask.leaseToken === null ? [] : [{ kind: 'releaseLease', key: leaseKeyOf(subtask.id), token: subtask.leaseToken }];
  return [...lease, { kind: 'releaseSlot', agentId: subtask.assignedAgent, workKey: workKeyOf(subtask.id, subtask.attempts) }];
}
