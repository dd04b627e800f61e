import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { EventContext } from '../events/index.js';
import { allSpecialties, executionRoles, executiveRoles, groupOf, leadRoleOf, managementRoles, type Specialty } from '../domain/vocabulary.js';
import type { AgentDirectory, AgentRegistration, AgentSpawner, EventBus, LeaseStore } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';
import { createAgent, type Agent, type AgentResult, type AgentTask } from './create-agent.js';
import { createSubtaskInbox } from './subtask-inbox.js';

/**
 * Clearly labelled DEMO agents for the embedded runtime: they do no real work. Each "works" for
 * ORCHESTRATION_DEMO_AGENT_DELAY_MS and reports ORCHESTRATION_DEMO_AGENT_QUALITY, except a
 * deterministic ORCHESTRATION_DEMO_LOW_QUALITY_RATE share of first attempts, reported below the
 * threshold so retries are visible. Each is an agent-SDK agent (createAgent) sharing one inbox
 * subscription per process: only its `handle` is make-believe, the protocol is the SDK's.
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

/**
 * The demo hierarchy; `instance` names one agents process among several (ids demo-<instance>-…).
 * Specialists take `specialistCapacity` tasks at once (ORCHESTRATION_MAX_TASKS_PER_AGENT, default 3).
 */
export function demoHierarchy(perSpecialty: number, instance = '', specialistCapacity = 3): AgentRegistration[] {
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
    for (let i = 1; i <= perSpecialty; i++) agents.push(specialist(specialty, id(`${specialty}-${i}`), instance, specialistCapacity));
  }
  return agents;
}

const demoId = (instance: string) => (name: string) => (instance ? `demo-${instance}-${name}` : `demo-${name}`);

const specialist = (specialty: Specialty, id: string, instance: string, capacity: number): AgentRegistration => ({
  id,
  layer: 'SPECIALIST',
  role: specialty,
  specialties: [specialty],
  supervisorId: demoId(instance)(leadRoleOf[groupOf(specialty)]),
  capacity,
  demo: true,
});

export function createDemoAgents(options: DemoAgentsOptions) {
  const { bus, directory, leases, context, config, logger } = options;
  const instance = options.instance ?? '';
  const inbox = createSubtaskInbox({ bus, groupId: instance ? `amas-demo-agents-${instance}` : 'amas-demo-agents', logger });
  const agents = new Map<string, Agent>();
  let running = false;

  /** An SDK agent like any other; only its `handle` is make-believe. */
  async function start(agent: AgentRegistration): Promise<void> {
    const { id, layer, specialties, role, supervisorId, capacity } = agent;
    const started = await createAgent({
      id,
      layer,
      specialties,
      ...(role ? { role } : {}),
      ...(supervisorId ? { supervisorId } : {}),
      capacity,
      demo: true,
      handle: (task, { signal }) => demoWork(id, task, signal, config),
      bus,
      directory,
      leases,
      config,
      inbox,
      logger,
      clock: context.clock,
      ids: context.ids,
    });
    agents.set(id, started);
  }

  const spawner: AgentSpawner = {
    async spawn(specialty, agentId) {
      const agent = specialist(specialty, `demo-${agentId}`, instance, config.ORCHESTRATION_MAX_TASKS_PER_AGENT);
      if (running && !agents.has(agent.id)) await start(agent);
      logger.info('demo agent spawned', { agentId: agent.id, specialty });
      return agent;
    },
  };

  const everyAgent = async (act: (agent: Agent) => Promise<void>): Promise<void> => {
    for (const agent of agents.values()) await act(agent);
  };

  return {
    spawner,
    async start(): Promise<void> {
      running = true;
      for (const agent of demoHierarchy(config.ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY, instance, config.ORCHESTRATION_MAX_TASKS_PER_AGENT)) await start(agent);
      logger.info('demo agents running (they simulate work; no real AI is called)', { agents: agents.size });
    },
    /** Simulates an agent dying (kill -9): no more answers, heartbeats or lease renewals. */
    kill(agentId: string): void {
      agents.get(agentId)?.crash();
    },
    agentIds: (): string[] => [...agents.keys()],
    heartbeat: () => everyAgent((agent) => agent.heartbeat()),
    renewLeases: () => everyAgent((agent) => agent.renewLeases()),
    /** Demo work is not worth waiting for: it is abandoned, its leases lapse and it is re-dispatched. */
    async stop(): Promise<void> {
      running = false;
      await Promise.allSettled([...agents.values()].map((agent) => agent.stop({ abandonWork: true })));
      await inbox.stop();
    },
  };
}
export type DemoAgents = ReturnType<typeof createDemoAgents>;

/**
 * The make-believe work: ORCHESTRATION_DEMO_AGENT_DELAY_MS of waiting, then ORCHESTRATION_DEMO_AGENT_QUALITY,
 * except a deterministic ORCHESTRATION_DEMO_LOW_QUALITY_RATE share of first attempts, reported below the threshold.
 */
async function demoWork(agentId: string, task: AgentTask, signal: AbortSignal, config: Config): Promise<AgentResult> {
  await sleepUnlessAborted(config.ORCHESTRATION_DEMO_AGENT_DELAY_MS, signal);
  const low = task.attempt === 1 && fraction(`${task.subtaskId}#${task.attempt}`) < config.ORCHESTRATION_DEMO_LOW_QUALITY_RATE;
  const quality = low ? Math.min(config.ORCHESTRATION_DEMO_AGENT_QUALITY, config.ORCHESTRATION_QUALITY_THRESHOLD / 2) : config.ORCHESTRATION_DEMO_AGENT_QUALITY;
  return { quality, output: { demo: true, agent: agentId, summary: `[demo] ${task.specialty} output for "${task.title}"`, inputs: task.inputs.length } };
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
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
