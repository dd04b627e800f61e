import { agentLost, functionSubscriptions, makeEvent, subtaskFailed, subtaskReady, topics, type EventContext } from '../events/index.js';
import { allSpecialties } from '../domain/vocabulary.js';
import type { AgentDirectory, EventBus, LeaseStore, WorkflowStore } from '../ports/index.js';
import type { Config } from '../config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface RecoveryOptions {
  store: WorkflowStore;
  leases: LeaseStore;
  directory: AgentDirectory;
  bus: EventBus;
  context: EventContext;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
}

/**
 * The lease-expiry recovery loop. It never changes state itself: it reports what it finds as
 * events (subtask.failed with cause lease_expired or timeout, agent.lost), so `complete` re-runs
 * the work through the same fenced, idempotent path as any other failure. Event ids derive from
 * the lease token, so two recovery loops (or two ticks) report each loss once.
 */
export function createRecoveryLoop(options: RecoveryOptions) {
  const { store, leases, directory, bus, context, config, logger, metrics } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  const derived = (key: string) => ({ ...context, cause: { id: key } });

  async function tick(): Promise<{ expired: number; overdue: number; rekicked: number }> {
    const now = context.clock.now();
    let expired = 0;
    const lostAgents = new Map<string, string[]>();
    for (const lease of await leases.listExpired(now, 100)) {
      const subtaskId = lease.key.replace(/^subtask:/, '');
      const subtask = await store.getSubtask(subtaskId);
      if (!subtask || subtask.status !== 'in_progress' || subtask.leaseToken !== lease.token) {
        await leases.release(lease.key, lease.token);
        continue;
      }
      const event = makeEvent(
        subtaskFailed,
        { workflowId: subtask.workflowId, subtaskId, attempt: subtask.attempts, agentId: lease.holder, leaseToken: lease.token, reason: `lease expired at ${new Date(lease.expiresAt).toISOString()}`, cause: 'lease_expired' },
        derived(`lease:${lease.key}:${lease.token}`),
      );
      await bus.publish(topics.subtaskResults, [{ key: subtask.workflowId, event }]);
      metrics.recoveryDuration.observe(Math.max(0, now - lease.expiresAt) / 1000);
      lostAgents.set(lease.holder, [...(lostAgents.get(lease.holder) ?? []), subtaskId]);
      expired++;
    }
    for (const [agentId, subtaskIds] of lostAgents) {
      const agent = await directory.get(agentId);
      if (!agent || now - agent.lastHeartbeat < config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3000) continue;
      await directory.setStatus(agentId, 'OFFLINE');
      const lost = makeEvent(agentLost, { agentId, reason: 'heartbeats stopped; leases expired', subtaskIds }, derived(`lost:${agentId}:${subtaskIds.join(',')}`));
      await bus.publish(topics.agents, [{ key: agentId, event: lost }]);
      logger.warn('agent lost; its work is re-queued', { agentId, subtaskIds });
    }

    let overdue = 0;
    for (const subtask of await store.findOverdueSubtasks(now, 100)) {
      if (subtask.assignedAgent === null || subtask.leaseToken === null) continue;
      const event = makeEvent(
        subtaskFailed,
        { workflowId: subtask.workflowId, subtaskId: subtask.id, attempt: subtask.attempts, agentId: subtask.assignedAgent, leaseToken: subtask.leaseToken, reason: `deadline ${subtask.deadline} passed`, cause: 'timeout' },
        derived(`timeout:${subtask.id}:${subtask.leaseToken}`),
      );
      await bus.publish(topics.subtaskResults, [{ key: subtask.workflowId, event }]);
      overdue++;
    }

    // Safety net for work waiting on capacity whose wake-up was missed: ask assign again — but only
    // while assign has caught up, or the re-kicks would pile onto work that is merely still queued.
    let rekicked = 0;
    const { topic: readyTopic, groupId: assignGroup } = functionSubscriptions.assign;
    const assignBehind = (await bus.lag(assignGroup, readyTopic).catch(() => 0)) > 0;
    const bucket = Math.floor(now / Math.max(1, options.intervalMs * 10));
    for (const subtask of assignBehind ? [] : await store.findWaitingSubtasks(allSpecialties, 50)) {
      if (now - Date.parse(subtask.updatedAt) < options.intervalMs * 5) continue;
      const event = makeEvent(
        subtaskReady,
        { workflowId: subtask.workflowId, subtaskId: subtask.id, specialty: subtask.specialty, attempt: subtask.attempts + 1, excludeAgents: [] },
        derived(`rekick:${subtask.id}:${subtask.attempts}:${bucket}`),
      );
      await bus.publish(topics.subtaskReady, [{ key: subtask.workflowId, event }]);
      rekicked++;
    }
    return { expired, overdue, rekicked };
  }

  const run = () => {
    if (running) return;
    running = tick()
      .then(() => undefined)
      .catch((error: unknown) => logger.warn('recovery tick failed', { error: String(error) }))
      .finally(() => (running = null));
  };

  return {
    tick,
    start() {
      timer = setInterval(run, options.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
