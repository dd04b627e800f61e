import { agentLost, functionSubscriptions, isoTime, makeEvent, subtaskFailed, subtaskReady, topics, type EventContext } from '../events/index.js';
import { allSpecialties } from '../domain/vocabulary.js';
import { waitingOrderOf } from '../domain/scheduling.js';
import type { AgentDirectory, EventBus, LeaseStore, WorkflowStore } from '../ports/index.js';
import type { Subtask } from '../domain/workflow.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { heartbeatTimeoutMs, leaseKeyOf, leaseTtlMs } from '../domain/protocol.js';
import { createSlotReconciler, defaultSlotGraceMs } from './slot-reconcile.js';

/**
 * The full tick's interval: at most a second, a quarter of the lease TTL (a lease taken after a tick
 * outlives the next one, which schedules its wake-up) and a quarter heartbeat (overdue deadlines and
 * re-kicks of waiting work keep pace with short heartbeats in tests). At the defaults (6 s leases)
 * it is 1 s; lost work is reported within a few ms of its lease's expiry either way (scheduleWake).
 */
export const recoveryIntervalMs = (config: Pick<Config, 'ORCHESTRATION_LEASE_TTL_SECONDS' | 'ORCHESTRATION_HEARTBEAT_INTERVAL'>): number =>
  Math.min(1000, config.ORCHESTRATION_LEASE_TTL_SECONDS * 250, config.ORCHESTRATION_HEARTBEAT_INTERVAL * 250);

export interface RecoveryOptions {
  store: WorkflowStore;
  leases: LeaseStore;
  directory: AgentDirectory;
  bus: EventBus;
  context: EventContext;
  config: Config;
  logger: Logger;
  intervalMs: number;
  metrics?: Pick<Metrics, 'slotsReconciled'>;
  /** How long a slot must look abandoned before the reconcile frees it (default 30 s). */
  slotGraceMs?: number;
}

/**
 * The lease-expiry recovery loop. It never changes state itself: it reports what it finds as
 * events (subtask.failed with cause lease_expired or timeout, agent.lost), so `complete` re-runs
 * the work through the same fenced, idempotent path as any other failure. Event ids derive from
 * the lease token, so two recovery loops (or two ticks) report each loss once.
 */
export function createRecoveryLoop(options: RecoveryOptions) {
  const { store, leases, directory, bus, context, config, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let wake: { at: number; timer: NodeJS.Timeout } | undefined;
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  let tickQueued = false;
  const derived = (key: string) => ({ ...context, cause: { id: key } });
  /**
   * subtask.failed for work found lost, its id derived from what found it and the lease token
   * (`<found>:<token>`): however often, and by whichever loop, it is found, it is reported once.
   */
  const lostWork = (subtask: Subtask, agentId: string, leaseToken: number, cause: 'lease_expired' | 'timeout', reason: string, found: string) =>
    makeEvent(
      subtaskFailed,
      { workflowId: subtask.workflowId, subtaskId: subtask.id, attempt: subtask.attempts, agentId, leaseToken, reason, cause },
      derived(`${found}:${leaseToken}`),
    );
  const slotGraceMs = options.slotGraceMs ?? defaultSlotGraceMs;
  const reconcileSlots = createSlotReconciler({ store, directory, logger, metrics: options.metrics, slotGraceMs });
  // A pass reads every held slot and its subtask: a few times per grace period is enough.
  const reconcileEveryMs = Math.max(options.intervalMs, slotGraceMs / 3);
  let lastReconcile = -Infinity;
  const leaseTtl = leaseTtlMs(config);
  let lastUnleasedSweep = -Infinity;
  /** Leases (key:token) the last sweep found missing. */
  let missingBefore = new Set<string>();

  /** Leases only (one lease-store call when none ran out): what runs at each lease's expiry. */
  async function recoverExpired(now: number): Promise<number> {
    let expired = 0;
    const lostAgents = new Map<string, string[]>();
    for (const lease of await leases.listExpired(now, 100)) {
      const subtaskId = lease.key.replace(/^subtask:/, '');
      const subtask = await store.getSubtask(subtaskId);
      if (!subtask || subtask.status !== 'in_progress' || subtask.leaseToken !== lease.token) {
        await leases.release(lease.key, lease.token);
        continue;
      }
      const event = lostWork(
        subtask,
        lease.holder,
        lease.token,
        'lease_expired',
        `lease expired at ${new Date(lease.expiresAt).toISOString()}`,
        `lease:${lease.key}`,
      );
      // Recovery time runs from the expiry to the re-dispatch (recovery-timing.ts observes it there).
      await bus.publish(topics.subtaskResults, [{ key: subtask.workflowId, event: { ...event, lostat: isoTime(lease.expiresAt) } }]);
      lostAgents.set(lease.holder, [...(lostAgents.get(lease.holder) ?? []), subtaskId]);
      expired++;
    }
    for (const [agentId, subtaskIds] of lostAgents) {
      const agent = await directory.get(agentId);
      if (!agent) continue;
      // Its holder stopped renewing (every third of the TTL): OFFLINE now, so assign does not hand the
      // re-dispatched work straight back to it. An agent in fact alive lifts it by its next heartbeat,
      // or by its next renewal (which finds this lease lost). FAILED and MAINTENANCE are decisions and stay.
      if (agent.status !== 'OFFLINE' && agent.status !== 'FAILED' && agent.status !== 'MAINTENANCE') {
        await directory.setStatus(agentId, 'OFFLINE');
        logger.warn('lease lapsed: agent marked OFFLINE until it heartbeats or renews again', { agentId, subtaskIds });
      }
      // Lost is still the heartbeat's verdict (3 missed heartbeats): only then is agent.lost reported.
      if (now - agent.lastHeartbeat < heartbeatTimeoutMs(config)) continue;
      const lost = makeEvent(
        agentLost,
        { agentId, reason: 'heartbeats stopped; leases expired', subtaskIds },
        derived(`lost:${agentId}:${subtaskIds.join(',')}`),
      );
      await bus.publish(topics.agents, [{ key: agentId, event: lost }]);
      logger.warn('agent lost; its work is re-queued', { agentId, subtaskIds });
    }
    return expired;
  }

  /**
   * Work in progress whose lease the lease store no longer has at all: a lease store that lost its
   * memory (Redis restarted without persistence) has nothing left to expire, and a dispatch that
   * reaches its agent after the loss is skipped as stale, so without this the work would wait for
   * its deadline. Such work is reported lost like an expired lease, under the same event id (one
   * report whichever path finds it). Only subtasks unchanged for a lease TTL are looked at — dispatch
   * takes the lease before it commits in_progress, so a live one has had a lease that long. A lease
   * must be missing on two sweeps (a lease TTL apart): a live agent takes its lease back at its next
   * renewal (LeaseStore.reclaim), every third of the TTL. And the subtask is read again then, so a
   * result committed meanwhile is not raced.
   */
  async function recoverUnleased(now: number): Promise<number> {
    let lost = 0;
    const seen = new Set<string>();
    for (const candidate of await store.findLongRunningSubtasks(now - leaseTtl, 200)) {
      if (candidate.leaseToken === null || candidate.assignedAgent === null) continue;
      const key = leaseKeyOf(candidate.id);
      if (await leases.get(key)) continue;
      const sighting = `${key}:${candidate.leaseToken}`;
      seen.add(sighting);
      if (!missingBefore.has(sighting)) continue;
      const subtask = await store.getSubtask(candidate.id);
      if (!subtask || subtask.status !== 'in_progress' || subtask.leaseToken !== candidate.leaseToken || subtask.assignedAgent === null) continue;
      const event = lostWork(
        subtask,
        subtask.assignedAgent,
        subtask.leaseToken,
        'lease_expired',
        'lease lost: the lease store has no record of it',
        `lease:${key}`,
      );
      await bus.publish(topics.subtaskResults, [{ key: subtask.workflowId, event: { ...event, lostat: isoTime(now) } }]);
      logger.warn('in-progress work had no lease at all (the lease store lost it): reported lost', { subtaskId: subtask.id, agentId: subtask.assignedAgent });
      lost++;
    }
    missingBefore = seen;
    return lost;
  }

  async function tick(): Promise<{ expired: number; overdue: number; rekicked: number; reconciled: number; unleased: number }> {
    const now = context.clock.now();
    const expired = await recoverExpired(now);
    let unleased = 0;
    if (now - lastUnleasedSweep >= leaseTtl) {
      lastUnleasedSweep = now;
      unleased = await recoverUnleased(now);
    }

    let overdue = 0;
    for (const subtask of await store.findOverdueSubtasks(now, 100)) {
      if (subtask.assignedAgent === null || subtask.leaseToken === null) continue;
      const event = lostWork(subtask, subtask.assignedAgent, subtask.leaseToken, 'timeout', `deadline ${subtask.deadline} passed`, `timeout:${subtask.id}`);
      await bus.publish(topics.subtaskResults, [{ key: subtask.workflowId, event: subtask.deadline ? { ...event, lostat: subtask.deadline } : event }]);
      overdue++;
    }

    // Safety net for work waiting on capacity whose wake-up was missed: ask assign again — but only
    // while assign has caught up, or the re-kicks would pile onto work that is merely still queued.
    let rekicked = 0;
    const { topic: readyTopic, groupId: assignGroup } = functionSubscriptions.assign;
    const assignBehind = (await bus.lag(assignGroup, readyTopic).catch(() => 0)) > 0;
    const bucket = Math.floor(now / Math.max(1, options.intervalMs * 10));
    for (const subtask of assignBehind ? [] : await store.findWaitingSubtasks(allSpecialties, 50, waitingOrderOf(config, now))) {
      if (now - Date.parse(subtask.updatedAt) < options.intervalMs * 5) continue;
      const event = makeEvent(
        subtaskReady,
        { workflowId: subtask.workflowId, subtaskId: subtask.id, specialty: subtask.specialty, attempt: subtask.attempts + 1, excludeAgents: [] },
        derived(`rekick:${subtask.id}:${subtask.attempts}:${bucket}`),
      );
      await bus.publish(topics.subtaskReady, [{ key: subtask.workflowId, event }]);
      rekicked++;
    }

    let reconciled = 0;
    if (now - lastReconcile >= reconcileEveryMs) {
      lastReconcile = now;
      reconciled = await reconcileSlots(now);
    }
    return { expired, overdue, rekicked, reconciled, unleased };
  }

  const serially = (job: () => Promise<unknown>, what: string): Promise<void> =>
    (queue = queue.then(job).then(
      () => undefined,
      (error: unknown) => logger.warn(`recovery ${what} failed`, { error: String(error) }),
    ));

  /**
   * Wakes at the earliest lease expiry before the next tick (plus a few ms: the store decides expiry
   * on its own clock), so lost work is reported when its lease runs out rather than up to one
   * interval later. A lease taken after this lives longer (the lease TTL) than an interval (at most a
   * quarter of it, recoveryIntervalMs): the tick after it is taken schedules its wake-up.
   */
  async function scheduleWake(): Promise<void> {
    if (stopped || !leases.nextExpiry) return;
    const now = context.clock.now();
    const at = await leases.nextExpiry(now);
    if (at === null || at > now + options.intervalMs || (wake && wake.at <= at) || stopped) return;
    if (wake) clearTimeout(wake.timer);
    const timer = setTimeout(
      () => {
        wake = undefined;
        void serially(async () => {
          await recoverExpired(context.clock.now());
          await scheduleWake();
        }, 'wake-up');
      },
      Math.max(0, at - now) + expiryMarginMs,
    );
    timer.unref();
    wake = { at, timer };
  }

  const run = () => {
    if (tickQueued) return;
    tickQueued = true;
    void serially(async () => {
      try {
        await tick();
      } finally {
        tickQueued = false;
      }
      await scheduleWake();
    }, 'tick');
  };

  return {
    tick,
    start() {
      timer = setInterval(run, options.intervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (wake) clearTimeout(wake.timer);
      await queue;
    },
  };
}

const expiryMarginMs = 5;
