import { setMaxListeners } from 'node:events';
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { agentHeartbeat, agentRegistered, makeEvent, subtaskCompleted, topics, type EventContext, type EventOf } from '../events/index.js';
import { allSpecialties, executionRoles, executiveRoles, groupOf, leadRoleOf, managementRoles, type Specialty } from '../domain/vocabulary.js';
import type { AgentDirectory, AgentRegistration, AgentSpawner, EventBus, LeaseStore, Subscription } from '../ports/index.js';
import { leaseKeyOf, leaseRenewalMs, leaseTtlMs } from '../domain/protocol.js';
import { createSeenIds } from '../messaging/seen-ids.js';
import { parseEvent } from '../engine/process-event.js';
import type { Logger } from '../observability/logger.js';
import { inEventSpan, stampTrace } from '../observability/tracing/index.js';

/**
 * Clearly labelled DEMO agents for the embedded runtime: they do no real work. Each "works" for
 * ORCHESTRATION_DEMO_AGENT_DELAY_MS and reports ORCHESTRATION_DEMO_AGENT_QUALITY, except a
 * deterministic ORCHESTRATION_DEMO_LOW_QUALITY_RATE share of first attempts, reported below the
 * threshold so retries are visible. Real agents use the agent SDK against the same topics.
 */
export interface DemoAgentsOptions {
  bus: EventBus;
  directory: AgentDirectory;
  leases: LeaseStore;
  context: EventContext;
  config: Config;
  logger: Logger;
  /** One agents process among several: its own agent ids and its own inbox consumer group. */
  instance?: string;
}

/** The demo hierarchy; `instance` names one agents process among several (ids demo-<instance>-…). */
export function demoHierarchy(perSpecialty: number, instance = ''): AgentRegistration[] {
  const demo = true;
  const id = demoId(instance);
  const coordinator = id('task_coordinator');
  const agents: AgentRegistration[] = executiveRoles.map((role) => ({ id: id(role), layer: 'EXECUTIVE', role, specialties: [], capacity: 10, demo }));
  for (const role of managementRoles) {
    agents.push({ id: id(role), layer: 'MANAGEMENT', role, specialties: [], supervisorId: coordinator, capacity: 10, demo });
  }
  for (const role of executionRoles) {
    agents.push({ id: id(role), layer: 'EXECUTION', role, specialties: [], supervisorId: coordinator, capacity: 10, demo });
  }
  for (const specialty of allSpecialties) {
    for (let i = 1; i <= perSpecialty; i++) agents.push(specialist(specialty, id(`${specialty}-${i}`), instance));
  }
  return agents;
}

const demoId = (instance: string) => (name: string) => (instance ? `demo-${instance}-${name}` : `demo-${name}`);

const specialist = (specialty: Specialty, id: string, instance: string): AgentRegistration => ({
  id,
  layer: 'SPECIALIST',
  role: specialty,
  specialties: [specialty],
  supervisorId: demoId(instance)(leadRoleOf[groupOf(specialty)]),
  capacity: 3,
  demo: true,
});

export function createDemoAgents(options: DemoAgentsOptions) {
  const { bus, directory, leases, context, config, logger } = options;
  const handled = createSeenIds();
  const instance = options.instance ?? '';
  const mine = new Set<string>();
  const stopped = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const working = new Map<string, { agentId: string; token: number }>();
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal); // one listener per subtask in hand, however many
  let subscription: Subscription | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let renewalTimer: NodeJS.Timeout | undefined;

  async function register(agent: AgentRegistration): Promise<void> {
    await directory.register(agent, context.clock.now());
    mine.add(agent.id);
    const { supervisorId, role, ...rest } = agent;
    await bus.publish(topics.agents, [
      {
        key: agent.id,
        event: makeEvent(agentRegistered, { ...rest, agentId: agent.id, ...(role ? { role } : {}), ...(supervisorId ? { supervisorId } : {}) }, context),
      },
    ]);
  }

  /**
   * Heartbeats renew only the leases of work this process is doing (by key and token): a restarted
   * agent must not keep alive the leases of work its previous incarnation lost.
   */
  async function heartbeat(): Promise<void> {
    const now = context.clock.now();
    const beats = [];
    for (const agentId of mine) {
      if (stopped.has(agentId)) continue;
      await directory.heartbeat(agentId, now);
      const record = await directory.get(agentId);
      beats.push({ key: agentId, event: makeEvent(agentHeartbeat, { agentId, status: record?.status ?? 'AVAILABLE', load: record?.load ?? 0 }, context) });
    }
    await renewLeases();
    if (beats.length > 0) await bus.publish(topics.agents, beats);
  }

  /** Lease renewal only (every third of the lease TTL): cheap, so leases can be short while health reports stay rare. */
  async function renewLeases(): Promise<void> {
    const ttl = leaseTtlMs(config);
    for (const [key, { agentId, token }] of working) {
      if (!stopped.has(agentId)) await leases.renew(key, token, ttl);
    }
  }

  async function work(value: unknown): Promise<void> {
    const event = parseEvent(value);
    if (event.type !== 'subtask.dispatched' || !mine.has(event.data.agentId) || stopped.has(event.data.agentId)) return;
    const { subtaskId, attempt, agentId, leaseToken } = event.data;
    // A dispatch redelivered (offsets not yet committed when a broker or rebalance hit) is not worked twice.
    if (!handled.firstTime(agentId, `${subtaskId}#${attempt}#${leaseToken}`)) return;
    // The agent's span, a child of dispatch's: its subtask.completed carries it on to complete.
    await inEventSpan('agent work', value, { 'amas.agent_id': agentId, 'amas.subtask_id': subtaskId, 'amas.attempt': attempt, 'amas.demo': true }, () =>
      perform(event.data),
    );
  }

  async function perform({ workflowId, subtaskId, attempt, agentId, leaseToken, task }: EventOf<'subtask.dispatched'>['data']): Promise<void> {
    const started = context.clock.now();
    const lease = leaseKeyOf(subtaskId);
    working.set(lease, { agentId, token: leaseToken });
    try {
      await sleepUnlessStopped(config.ORCHESTRATION_DEMO_AGENT_DELAY_MS, shutdown.signal);
    } finally {
      working.delete(lease);
    }
    if (stopped.has(agentId) || shutdown.signal.aborted) return; // a killed (or stopping) agent never answers
    const low = attempt === 1 && fraction(`${subtaskId}#${attempt}`) < config.ORCHESTRATION_DEMO_LOW_QUALITY_RATE;
    const quality = low
      ? Math.min(config.ORCHESTRATION_DEMO_AGENT_QUALITY, config.ORCHESTRATION_QUALITY_THRESHOLD / 2)
      : config.ORCHESTRATION_DEMO_AGENT_QUALITY;
    const output = { demo: true, agent: agentId, summary: `[demo] ${task.specialty} output for "${task.title}"`, inputs: task.inputs.length };
    const done = stampTrace(
      makeEvent(subtaskCompleted, { workflowId, subtaskId, attempt, agentId, leaseToken, quality, output, durationMs: context.clock.now() - started }, context),
    );
    await bus.publish(topics.subtaskResults, [{ key: workflowId, event: done }]);
  }

  const spawner: AgentSpawner = {
    async spawn(specialty, agentId) {
      const agent = specialist(specialty, `demo-${agentId}`, instance);
      mine.add(agent.id);
      logger.info('demo agent spawned', { agentId: agent.id, specialty });
      return agent;
    },
  };

  return {
    spawner,
    async start(): Promise<void> {
      for (const agent of demoHierarchy(config.ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY, instance)) await register(agent);
      // Heartbeats start before the inbox subscription, which may wait out a dead predecessor's session.
      heartbeatTimer = setInterval(
        () => void heartbeat().catch((error: unknown) => logger.warn('heartbeat failed', { error: String(error) })),
        config.ORCHESTRATION_HEARTBEAT_INTERVAL * 1000,
      );
      heartbeatTimer.unref();
      renewalTimer = setInterval(
        () => void renewLeases().catch((error: unknown) => logger.warn('lease renewal failed', { error: String(error) })),
        leaseRenewalMs(config),
      );
      renewalTimer.unref();
      subscription = await bus.subscribe({
        // Each agents process reads every dispatch (its own group) and keeps those for its agents.
        groupId: instance ? `amas-demo-agents-${instance}` : 'amas-demo-agents',
        topic: topics.subtaskDispatched,
        // Work runs beside the consumer loop, so one slow agent never holds a partition.
        handler: async (delivery) => {
          const job = work(delivery.value).catch((error: unknown) => logger.warn('demo agent failed', { error: String(error) }));
          inFlight.add(job);
          void job.finally(() => inFlight.delete(job));
        },
      });
      logger.info('demo agents running (they simulate work; no real AI is called)', { agents: mine.size });
    },
    /** Simulates an agent dying: no more answers, no more heartbeats. */
    kill(agentId: string): void {
      stopped.add(agentId);
    },
    agentIds: (): string[] => [...mine],
    heartbeat,
    renewLeases,
    async stop(): Promise<void> {
      clearInterval(heartbeatTimer);
      clearInterval(renewalTimer);
      shutdown.abort();
      await subscription?.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
export type DemoAgents = ReturnType<typeof createDemoAgents>;

function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A stable number in [0, 1) per key, so the same subtask gets the same demo quality on replay. */
function fraction(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}
