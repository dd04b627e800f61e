import { inputTopicOf, type FunctionName } from '../events/index.js';
import { countFinished, countUsage, type Metrics } from '../observability/metrics.js';
import type { ProcessResult } from './process-event.js';
import { observeRecovery } from './recovery-timing.js';

/** What every binding records for a processed event (handleDelivery calls it once per acknowledged event). */
export function observeTimings(name: FunctionName, result: ProcessResult, started: number, metrics: Metrics): void {
  const seconds = (performance.now() - started) / 1000;
  if (name === 'decompose' && result.status === 'applied') metrics.decompositionDuration.observe(seconds);
  if (name === 'assign' && result.status === 'applied') metrics.assignmentDuration.observe(seconds);
  const emittedAt = Date.parse(result.event.time);
  if (Number.isFinite(emittedAt)) metrics.messageLatency.observe({ topic: inputTopicOf(name) }, Math.max(0, (Date.now() - emittedAt) / 1000));
  if (result.status === 'applied') countFinished(metrics, result.outcome.emit);
  if (result.status === 'applied' || result.status === 'skipped') countSpending(name, result, metrics);
  if (name === 'dispatch' && result.status === 'applied') observeRecovery(metrics, result.event, result.outcome.emit, Date.now());
}

/** Model spending this commit added to a workflow: the plan's (decompose), the agent's reported usage (complete). */
function countSpending(name: FunctionName, result: ProcessResult & { status: 'applied' | 'skipped' }, metrics: Metrics): void {
  if (name === 'decompose') countUsage(metrics, 'planner', result.outcome.change.workflowUpdates?.[0]?.patch.plan?.provenance?.usage);
  if (result.event.type === 'subtask.completed' || result.event.type === 'subtask.failed') countUsage(metrics, 'agent', result.event.data.usage);
}
