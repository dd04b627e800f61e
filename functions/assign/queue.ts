import { waitingOrderOf } from '../../shared/domain/scheduling.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import type { AgentRecord } from '../../shared/ports/index.js';
import type { AssignDeps } from '../common/deps.js';
import { healthRules, isHealthy } from './score.js';

/** Past this many free slots capacity is plentiful: nothing is passed over for long, so nobody defers. */
const LOOKAHEAD = 32;

/** Slots the healthy agents can still take; an agent takes at most ORCHESTRATION_MAX_TASKS_PER_AGENT. */
export function freeSlots(
  candidates: readonly AgentRecord[],
  deps: Pick<AssignDeps, 'clock'> & {
    config: Pick<AssignDeps['config'], 'ORCHESTRATION_MAX_TASKS_PER_AGENT' | 'ORCHESTRATION_HEARTBEAT_INTERVAL' | 'ORCHESTRATION_AGENT_FAILURE_THRESHOLD'>;
  },
): number {
  const rules = healthRules(deps.clock.now(), deps.config);
  const cap = deps.config.ORCHESTRATION_MAX_TASKS_PER_AGENT;
  return candidates.filter((agent) => isHealthy(agent, rules)).reduce((sum, agent) => sum + Math.max(0, Math.min(agent.capacity, cap) - agent.load), 0);
}

/**
 * New work must not jump the queue: with `free` slots open, only the first `free` waiting subtasks of
 * the specialty in WaitingOrder (aged priority, re-runs, tenant share, age) may take them. Returns the
 * first-ranked waiting subtask when this one is not among them (the caller wakes it — its own wake-up
 * may still be on the way, behind this event — and waits for the next freed slot), else null.
 */
export async function rankedAhead(
  subtask: Pick<Subtask, 'id' | 'specialty'>,
  free: number,
  deps: Pick<AssignDeps, 'store' | 'clock' | 'config'>,
): Promise<Subtask | null> {
  if (free === 0 || free > LOOKAHEAD) return null;
  const first = await deps.store.findWaitingSubtasks([subtask.specialty], free, waitingOrderOf(deps.config, deps.clock.now()));
  return first.some((s) => s.id === subtask.id) ? null : (first[0] ?? null);
}
