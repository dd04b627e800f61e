import type { InfraConfig } from '../env.js';
import type { WorkflowStatus } from '../domain/vocabulary.js';
import type { Subtask, Workflow } from '../domain/workflow.js';
import { functionSubscriptions, subtaskFailed } from '../events/index.js';
import type { EventBus, OutboxConsumer, StateChange, WorkflowStore } from '../ports/index.js';
import { leaseKeyOf } from '../domain/protocol.js';
import { Emitter } from '../../functions/index.js';
import type { RuntimePorts } from './functions.js';
import type { Logger } from '../observability/logger.js';
import { toOutbox } from './process-event.js';

const activeStatuses: readonly WorkflowStatus[] = ['pending', 'planned', 'awaiting_approval', 'running', 'paused'];
const functionTopics: OutboxConsumer[] = Object.entries(functionSubscriptions).map(([consumer, { topic }]) => ({ topic, consumer }));
const PAGE = 500;

/**
 * A start needs resuming when the store outlived the last process but the event log, the leases and
 * the agent directory did not: an in-process bus over a persisted store (AMAS_DATA_DIR or DATABASE_URL).
 */
export const resumesAfterRestart = (infra: Pick<InfraConfig, 'KAFKA_BROKERS' | 'DATABASE_URL' | 'AMAS_DATA_DIR'>): boolean =>
  !infra.KAFKA_BROKERS && (infra.DATABASE_URL !== undefined || infra.AMAS_DATA_DIR !== null);

export interface ResumeReport {
  /** Workflows active when the last process stopped. */
  workflows: number;
  /** Events the last process published that their function never read. */
  republished: number;
  /** In-progress subtasks reported lost to `complete` (re-run on a live agent). */
  lost: number;
  /** Assigned, undispatched subtasks handed back to `assign`. */
  unassigned: number;
}

/**
 * Re-drives every active workflow after a restart, before the function consumers start. Nothing
 * here changes a workflow's course: it re-sends what the dead process's bus lost (the functions
 * absorb what they already processed by event id) and reports the work that died with its agents
 * through the same events an agent loss produces, so the functions decide as they always do.
 */
export async function resumeActiveWorkflows(ports: RuntimePorts, bus: EventBus, logger: Logger): Promise<ResumeReport> {
  const report: ResumeReport = { workflows: 0, republished: await republishUnconsumed(ports.store, bus), lost: 0, unassigned: 0 };
  const bootId = ports.ids.newId('resume');
  for (const workflow of await activeWorkflows(ports.store)) {
    report.workflows += 1;
    const subtasks = await ports.store.getSubtasks(workflow.id);
    for (const subtask of subtasks) await carryFencingToken(ports, subtask);
    for (const subtask of subtasks.filter(isInProgress)) await rememberLostAgent(ports, subtask);
    const change = reclaimLostWork(workflow, subtasks, `${bootId}:${workflow.id}`, ports);
    if (!change) continue;
    await ports.store.commit(change);
    report.lost += subtasks.filter(isInProgress).length;
    report.unassigned += change.subtaskUpdates?.length ?? 0;
  }
  if (report.workflows > 0) logger.info('resumed the workflows active before the restart', { ...report });
  return report;
}

/** In commit order: the events of one workflow on one topic keep their order. */
async function republishUnconsumed(store: WorkflowStore, bus: EventBus): Promise<number> {
  let count = 0;
  for (let after = 0; ;) {
    const rows = await store.unconsumedOutbox(functionTopics, after, PAGE);
    if (rows.length === 0) return count;
    for (const row of rows) await bus.publish(row.topic, [{ key: row.key, event: row.event }]);
    after = rows[rows.length - 1]!.seq;
    count += rows.length;
  }
}

async function activeWorkflows(store: WorkflowStore): Promise<Workflow[]> {
  const found: Workflow[] = [];
  for (const status of activeStatuses) {
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.listWorkflows({ status, limit: PAGE, offset });
      found.push(...page);
      if (page.length < PAGE) break;
    }
  }
  return found;
}

const isInProgress = (s: Subtask): s is Subtask & { assignedAgent: string; leaseToken: number } =>
  s.status === 'in_progress' && s.assignedAgent !== null && s.leaseToken !== null;

/**
 * The dead process's work: an in-progress subtask (its agent and lease died with it) is reported
 * lost to `complete`, which re-runs it on a live agent (a retry like any lost agent's); an assigned
 * but undispatched one goes back to `assign`, as the agent it was meant for may not exist any more.
 * Null when there is nothing to reclaim.
 */
export function reclaimLostWork(
  workflow: Workflow,
  subtasks: readonly Subtask[],
  causeId: string,
  deps: Pick<RuntimePorts, 'store' | 'clock' | 'ids' | 'source'>,
): StateChange | null {
  const out = new Emitter(deps, { id: causeId });
  const subtaskUpdates: NonNullable<StateChange['subtaskUpdates']> = [];
  for (const subtask of subtasks) {
    if (isInProgress(subtask)) {
      out.emit(subtaskFailed, {
        workflowId: workflow.id,
        subtaskId: subtask.id,
        attempt: subtask.attempts,
        agentId: subtask.assignedAgent,
        leaseToken: subtask.leaseToken,
        reason: 'the orchestrator restarted while the subtask ran',
        cause: 'agent_lost',
      });
    } else if (subtask.status === 'ready' && subtask.assignedAgent !== null) {
      subtaskUpdates.push({ id: subtask.id, expectedVersion: subtask.version, patch: { assignedAgent: null } });
      out.ready(subtask);
    }
  }
  if (out.events.length === 0) return null;
  return { consumer: 'resume', eventId: causeId, subtaskUpdates, outbox: toOutbox(out.events) };
}

/**
 * An agent the new directory does not know (one spawned by the last process) is recorded OFFLINE:
 * `complete` books the lost attempt against it and `assign` passes it over. A real agent that
 * registers again under its id is back online.
 */
async function rememberLostAgent(ports: RuntimePorts, subtask: Subtask & { assignedAgent: string }): Promise<void> {
  const id = subtask.assignedAgent;
  if (await ports.directory.get(id)) return;
  await ports.directory.register(
    { id, layer: 'SPECIALIST', role: subtask.specialty, specialties: [subtask.specialty], capacity: 1, demo: id.startsWith('demo-') },
    ports.clock.now(),
  );
  await ports.directory.setStatus(id, 'OFFLINE');
}

/**
 * A lease store that forgot its tokens (in memory) would hand out the last process's tokens again,
 * and the recovery loop derives its event ids from them (`lease:<key>:<token>`), which `complete`
 * has already processed: the key is advanced to the subtask's attempts (each attempt took at most
 * one token, this included), so the next attempt's token is new. A store that kept its tokens moves
 * past them at once; a lease still held is left alone.
 */
async function carryFencingToken(ports: Pick<RuntimePorts, 'leases'>, subtask: Subtask): Promise<void> {
  const floor = Math.max(subtask.attempts, subtask.leaseToken ?? 0);
  for (let taken = 0; taken < floor; taken++) {
    const lease = await ports.leases.acquire(leaseKeyOf(subtask.id), 'amas-resume', 1_000);
    if (!lease) return;
    await ports.leases.release(lease.key, lease.token);
    if (lease.token >= floor) return;
  }
}
