import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelUsage } from '../domain/usage.js';

const seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The seed's metric names, plus counters that make failures visible. One registry per process. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    activeWorkflows: new Gauge({ name: 'orchestration_active_workflows', help: 'Workflows not yet completed, failed or cancelled', registers }),
    activeAgents: new Gauge({ name: 'orchestration_active_agents', help: 'Registered agents that are healthy', registers }),
    queueDepth: new Gauge({
      name: 'orchestration_message_queue_depth',
      help: 'Records not yet committed by a consumer group (KEDA scales on this lag)',
      labelNames: ['topic', 'group'],
      registers,
    }),
    decompositionDuration: new Histogram({
      name: 'orchestration_task_decomposition_duration',
      help: 'Seconds to decompose a task into a plan',
      buckets: seconds,
      registers,
    }),
    assignmentDuration: new Histogram({
      name: 'orchestration_agent_assignment_duration',
      help: 'Seconds to pick and reserve an agent for a ready subtask',
      buckets: seconds,
      registers,
    }),
    messageLatency: new Histogram({
      name: 'orchestration_message_latency',
      help: 'Seconds from an event being emitted to its consumer finishing it',
      labelNames: ['topic'],
      buckets: seconds,
      registers,
    }),
    recoveryDuration: new Histogram({
      name: 'orchestration_failure_recovery_duration',
      help: 'Seconds from work being lost (its lease expiring, its deadline passing, its agent declared lost) to its next attempt being dispatched',
      buckets: seconds,
      registers,
    }),
    eventsProcessed: new Counter({
      name: 'orchestration_events_processed_total',
      help: 'Events handled per function and result',
      labelNames: ['function', 'result'],
      registers,
    }),
    deadLetters: new Counter({ name: 'orchestration_dead_letters_total', help: 'Records sent to a dead-letter topic', labelNames: ['topic'], registers }),
    effectsFailed: new Counter({
      name: 'orchestration_effects_failed_total',
      help: 'Post-commit effects (lease and slot releases, work records) that failed',
      labelNames: ['effect'],
      registers,
    }),
    carriedState: new Counter({
      name: 'orchestration_carried_state_total',
      help: 'events a function (assign, dispatch) ran on the state they carried: used (committed without a read), stale (a version moved: read and ran again) or read (assign: no free slot, read before spawning or parking; dispatch: the lease was held, read to tell why)',
      labelNames: ['function', 'outcome'],
      registers,
    }),
    slotsReconciled: new Counter({
      name: 'orchestration_slots_reconciled_total',
      help: 'Agent slots the recovery loop freed because the store no longer has the agent doing that work (a crash between a commit and its effects)',
      registers,
    }),
    streamClients: new Gauge({ name: 'orchestration_stream_clients', help: 'Open Server-Sent Events streams', labelNames: ['stream'], registers }),
    streamClientsDropped: new Counter({
      name: 'orchestration_stream_clients_dropped_total',
      help: 'Stream clients disconnected because they left too much unread',
      labelNames: ['stream'],
      registers,
    }),
    workflowsFinished: new Counter({ name: 'orchestration_workflows_finished_total', help: 'Workflows by final status', labelNames: ['status'], registers }),
    llmTokens: new Counter({
      name: 'orchestration_llm_tokens_total',
      help: 'Model tokens spent for workflows, by kind (input, output) and source (planner, agent)',
      labelNames: ['kind', 'source'],
      registers,
    }),
    llmCost: new Counter({
      name: 'orchestration_llm_cost_usd_total',
      help: 'US dollars spent on models for workflows, by source (planner, agent)',
      labelNames: ['source'],
      registers,
    }),
    // The communication bus's two (shared/messaging/communication-metrics.ts records into them by name).
    messageBacklog: new Gauge({ name: 'orchestration_message_backlog', help: 'Agent messages queued per recipient', labelNames: ['recipient'], registers }),
    agentMessages: new Counter({
      name: 'orchestration_agent_messages_total',
      help: 'Agent messages by result (sent, delivered, failed)',
      labelNames: ['result'],
      registers,
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

const finishedBy: Partial<Record<string, 'completed' | 'failed' | 'cancelled'>> = {
  'workflow.completed': 'completed',
  'workflow.failed': 'failed',
  'workflow.cancelled': 'cancelled',
};

/** Counts what a committed model spend cost (planner or agent): the workflow's usage grew by it in the same commit. */
export function countUsage(metrics: Metrics, source: 'planner' | 'agent', usage: ModelUsage | undefined): void {
  if (!usage) return;
  metrics.llmTokens.inc({ kind: 'input', source }, usage.inputTokens);
  metrics.llmTokens.inc({ kind: 'output', source }, usage.outputTokens);
  metrics.llmCost.inc({ source }, usage.costUsd);
}

/** Counts the workflows a committed change finishes, by their final status, from the events it emits. */
export function countFinished(metrics: Metrics, emitted: readonly { type: string }[]): void {
  for (const event of emitted) {
    const status = finishedBy[event.type];
    if (status) metrics.workflowsFinished.inc({ status });
  }
}
