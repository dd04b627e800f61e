import type { OrchestrationEvent } from '../events/index.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * `orchestration_failure_recovery_duration` runs from the moment work was lost (its lease expired,
 * its deadline passed, its agent was declared lost) to the dispatch of its next attempt. The moment
 * travels in the `lostat` extension attribute of the events that re-drive the subtask (ready →
 * assigned → dispatched), set here by the runtime so the handlers stay unaware of it.
 */
const lossCauses: ReadonlySet<string> = new Set(['lease_expired', 'timeout', 'agent_lost']);
const redrives: ReadonlySet<string> = new Set(['subtask.ready', 'subtask.assigned', 'subtask.dispatched']);

const subtaskOf = (event: { data: unknown }): string | undefined => (event.data as { subtaskId?: string } | null)?.subtaskId;

/** When the work this event re-drives was lost, if it was: its `lostat`, else a loss report's own time. */
export function lostAtOf(event: OrchestrationEvent): string | undefined {
  if (event.lostat) return event.lostat;
  if (event.type === 'subtask.failed' && lossCauses.has(event.data.cause)) return event.time;
  return undefined;
}

/** An emitted event that re-drives the cause's subtask carries the loss time on. */
export function carryLoss<E extends { type: string; data: unknown; lostat?: string }>(cause: OrchestrationEvent, emitted: E): E {
  const lostAt = lostAtOf(cause);
  if (lostAt === undefined || !redrives.has(emitted.type) || subtaskOf(emitted) !== subtaskOf(cause)) return emitted;
  return { ...emitted, lostat: lostAt };
}

/** Called when dispatch has committed: a re-dispatch of lost work ends its recovery. */
export function observeRecovery(metrics: Metrics, cause: OrchestrationEvent, emitted: readonly { type: string }[], now: number): void {
  const lostAt = cause.type === 'subtask.assigned' ? cause.lostat : undefined;
  if (lostAt === undefined || !emitted.some((e) => e.type === 'subtask.dispatched')) return;
  metrics.recoveryDuration.observe(Math.max(0, now - Date.parse(lostAt)) / 1000);
}
