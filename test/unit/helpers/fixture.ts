import { expect } from 'vitest';
import { createMemoryAgentDirectory } from '../../../shared/adapters/memory/agent-directory.memory.js';
import { createManualClock, type ManualClock } from '../../../shared/adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../../../shared/adapters/memory/event-bus.memory.js';
import { createIds } from '../../../shared/adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../../../shared/adapters/memory/lease-store.memory.js';
import { pgliteSchemas } from './pglite-schemas.js';
import { createSqlWorkflowStore } from '../../../shared/adapters/sql/workflow-store.sql.js';
import { defaultConfig, type Config } from '../../../shared/config.js';
import { qualityGateThreshold, type Phase, type QualityGateName, type Specialty } from '../../../shared/domain/vocabulary.js';
import type { Plan, PlannedSubtask, Subtask, Workflow } from '../../../shared/domain/workflow.js';
import {
  functionSubscriptions,
  isoTime,
  makeEvent,
  subtaskCompleted,
  subtaskFailed,
  taskSubmitted,
  topicOf,
  topics,
  type EventContext,
  type EventOf,
  type FunctionName,
  type OrchestrationEvent,
} from '../../../shared/events/index.js';
import type { AgentDirectory, AgentRecord, AgentRegistration, AgentSpawner, LeaseStore, Planner, WorkflowStore } from '../../../shared/ports/index.js';
import type { RuntimePorts } from '../../../shared/engine/functions.js';
import { processEvent, toOutbox, type ProcessResult } from '../../../shared/engine/process-event.js';
import { createRecoveryLoop, type RecoveryOptions } from '../../../shared/engine/recovery.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import { deterministicPlanner } from '../../../functions/index.js';

/** 2024-05-01T10:00:00Z: every harness clock starts here. */
export const T0 = Date.parse('2024-05-01T10:00:00.000Z');

const schemaClient = pgliteSchemas(`unit_${process.pid}`);

/** A spawner that records its calls and returns a specialist of the asked specialty (or nothing). */
export function recordingSpawner(options: { refuse?: boolean; capacity?: number } = {}) {
  const calls: { specialty: Specialty; agentId: string }[] = [];
  const spawner: AgentSpawner & { calls: typeof calls } = {
    calls,
    async spawn(specialty, agentId) {
      calls.push({ specialty, agentId });
      if (options.refuse) return null;
      return { id: agentId, layer: 'SPECIALIST', role: specialty, specialties: [specialty], capacity: options.capacity ?? 3, demo: true };
    },
  };
  return spawner;
}

export interface HarnessOptions {
  config?: Partial<Config>;
  planner?: Planner;
  spawner?: AgentSpawner;
}

export interface Harness {
  ports: RuntimePorts;
  store: WorkflowStore;
  leases: LeaseStore;
  directory: AgentDirectory;
  clock: ManualClock;
  config: Config;
  context: EventContext;
  /** processEvent through one function. */
  run(name: FunctionName, event: unknown): Promise<ProcessResult>;
  /** Creates a pending workflow (as the API does) and returns its task.submitted event, not yet processed. */
  submit(description: string, workflowId?: string): Promise<EventOf<'task.submitted'>>;
  /** Creates a workflow and runs decompose on it. */
  start(description: string, workflowId?: string): Promise<{ workflowId: string; result: ProcessResult }>;
  workflow(id: string): Promise<Workflow>;
  subtasks(workflowId: string): Promise<Subtask[]>;
  subtask(id: string): Promise<Subtask>;
  /** Unpublished outbox events (oldest first), optionally of one type. */
  outbox<T extends OrchestrationEvent['type']>(type?: T): Promise<EventOf<T>[]>;
  /** Marks every pending outbox row published and returns their events: "what was emitted since the last take". */
  take(): Promise<OrchestrationEvent[]>;
  /**
   * Routes pending outbox events to decompose / assign / dispatch (as the consumers would) until
   * nothing routable is left; returns the subtask.dispatched events seen, i.e. the agents' inboxes.
   */
  pump(): Promise<EventOf<'subtask.dispatched'>[]>;
  /** Registers a specialist with a fresh heartbeat. */
  agent(id: string, specialty: Specialty, extra?: Partial<AgentRegistration>): Promise<AgentRecord>;
  /** The agent's answer to a dispatch. */
  completed(dispatched: EventOf<'subtask.dispatched'>, quality: number, output?: unknown): EventOf<'subtask.completed'>;
  failed(dispatched: EventOf<'subtask.dispatched'>, cause: EventOf<'subtask.failed'>['data']['cause'], reason?: string): EventOf<'subtask.failed'>;
}

let counter = 0;
export const uniqueId = (prefix = 'wf'): string => `${prefix}-${process.pid}-${++counter}`;

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = createManualClock(T0);
  const ids = createIds();
  // Plans run as planned unless a test is about plan approval (it asks for BEFORE_EXECUTION or BEFORE_DELIVERY).
  const config = defaultConfig({ ORCHESTRATION_PLAN_APPROVAL: 'OFF', ...options.config });
  const store = createSqlWorkflowStore(await schemaClient());
  await store.migrate();
  const leases = createMemoryLeaseStore(clock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  const source = 'amas/test';
  const ports: RuntimePorts = {
    store,
    leases,
    directory,
    planner: options.planner ?? deterministicPlanner,
    ...(options.spawner ? { spawner: options.spawner } : {}),
    clock,
    ids,
    config,
    source,
  };
  const context: EventContext = { ids, clock, source };
  const routes = new Map<string, FunctionName>(
    (Object.entries(functionSubscriptions) as [FunctionName, { topic: string }][])
      .filter(([name]) => name !== 'complete')
      .map(([name, { topic }]) => [topic, name]),
  );
  let agentMessages = 0;

  const h: Harness = {
    ports,
    store,
    leases,
    directory,
    clock,
    config,
    context,
    run: (name, event) => processEvent(name, event, ports),
    async submit(description, workflowId = uniqueId()) {
      const event = makeEvent(taskSubmitted, { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false }, context);
      await store.createWorkflow(
        { id: workflowId, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: isoTime(clock.now()) },
        toOutbox([event as OrchestrationEvent]),
      );
      await store.markPublished((await store.pendingOutbox(10_000)).map((row) => row.seq));
      return event as EventOf<'task.submitted'>;
    },
    async start(description, workflowId) {
      const event = await h.submit(description, workflowId);
      return { workflowId: event.data.workflowId, result: await h.run('decompose', event) };
    },
    async workflow(id) {
      const workflow = await store.getWorkflow(id);
      if (!workflow) throw new Error(`no workflow ${id}`);
      return workflow;
    },
    subtasks: (workflowId) => store.getSubtasks(workflowId),
    async subtask(id) {
      const subtask = await store.getSubtask(id);
      if (!subtask) throw new Error(`no subtask ${id}`);
      return subtask;
    },
    async outbox<T extends OrchestrationEvent['type']>(type?: T) {
      const events = (await store.pendingOutbox(10_000)).map((row) => row.event as OrchestrationEvent);
      return events.filter((e) => type === undefined || e.type === type) as EventOf<T>[];
    },
    async take() {
      const rows = await store.pendingOutbox(10_000);
      await store.markPublished(rows.map((row) => row.seq));
      return rows.map((row) => row.event as OrchestrationEvent);
    },
    async pump() {
      const dispatched: EventOf<'subtask.dispatched'>[] = [];
      for (let round = 0; round < 100; round++) {
        const events = await h.take();
        const routable = events.filter((e) => routes.has(topicFor(e)));
        for (const e of events) if (e.type === 'subtask.dispatched') dispatched.push(e);
        if (routable.length === 0) return dispatched;
        for (const e of routable) await h.run(routes.get(topicFor(e))!, e);
      }
      throw new Error('pump did not settle');
    },
    async agent(id, specialty, extra = {}) {
      return directory.register({ id, layer: 'SPECIALIST', role: specialty, specialties: [specialty], capacity: 3, demo: false, ...extra }, clock.now());
    },
    completed(d, quality, output = { by: d.data.agentId, n: ++agentMessages }) {
      const data = {
        workflowId: d.data.workflowId,
        subtaskId: d.data.subtaskId,
        attempt: d.data.attempt,
        agentId: d.data.agentId,
        leaseToken: d.data.leaseToken,
        quality,
        output,
        durationMs: 1000,
      };
      return makeEvent(subtaskCompleted, data, context) as EventOf<'subtask.completed'>;
    },
    failed(d, cause, reason = 'it broke') {
      const data = {
        workflowId: d.data.workflowId,
        subtaskId: d.data.subtaskId,
        attempt: d.data.attempt,
        agentId: d.data.agentId,
        leaseToken: d.data.leaseToken,
        reason,
        cause,
      };
      return makeEvent(subtaskFailed, data, context) as EventOf<'subtask.failed'>;
    },
  };
  return h;
}

const topicFor = (event: OrchestrationEvent): string => topicOf[event.type];

/** A subtask of a hand-made plan: `key` becomes `<workflowId>.<key>`. */
export interface StepSpec {
  key: string;
  specialty: Specialty;
  phase: Phase;
  deps?: string[];
  minutes?: number;
}

/** A planner that returns a fixed, small plan (so tests control the DAG, the phases and the gates). */
export function fixedPlanner(steps: StepSpec[], gates: { name: QualityGateName; phase: Phase; threshold?: number }[] = []): Planner {
  return {
    async plan({ workflowId }) {
      const subtasks: PlannedSubtask[] = steps.map((step, index) => ({
        id: `${workflowId}.${step.key}`,
        title: `step ${step.key}`,
        description: `do ${step.key}`,
        specialty: step.specialty,
        phase: step.phase,
        estimatedMinutes: step.minutes ?? 30,
        priority: 10 - Math.min(index, 9),
        dependsOn: (step.deps ?? []).map((dep) => `${workflowId}.${dep}`),
        successCriteria: ['done'],
        qualityCheckpoints: ['checked'],
        reviewRequired: false,
      }));
      const plan: Plan = {
        complexity: 'MODERATE',
        confidence: 0.7,
        patterns: [],
        subtasks,
        phases: [...new Set(steps.map((s) => s.phase))].map((phase) => ({ phase, subtaskIds: subtasks.filter((s) => s.phase === phase).map((s) => s.id) })),
        estimatedHours: 1,
        estimatedCost: 2,
        requiredSpecialists: [...new Set(steps.map((s) => s.specialty))],
        qualityGates: gates.map((g) => ({ name: g.name, phase: g.phase, threshold: g.threshold ?? qualityGateThreshold[g.name] })),
        risk: 'low',
        approvalRequired: false,
      };
      return plan;
    },
  };
}

/** A quick way to read the state of a workflow and its subtasks, for deep-equality checks. */
export async function snapshot(h: Harness, workflowId: string): Promise<{ workflow: Workflow; subtasks: Subtask[]; outbox: number }> {
  return { workflow: await h.workflow(workflowId), subtasks: await h.subtasks(workflowId), outbox: (await h.store.pendingOutbox(10_000)).length };
}

/** Processes `event` a second time and asserts nothing changed: result 'duplicate', same state, no new outbox rows. */
export async function expectIdempotent(h: Harness, name: FunctionName, event: unknown, workflowId: string): Promise<void> {
  const before = await snapshot(h, workflowId);
  const again = await h.run(name, event);
  expect(again.status).toBe('duplicate');
  expect(await snapshot(h, workflowId)).toEqual(before);
}

/**
 * A recovery loop over the harness's store, leases and directory that reports to a fresh memory bus;
 * tests drive it with `loop.tick()`. `metrics` and `slotGraceMs` go to the loop as given (absent: none,
 * and the default grace). `published(topic)` reads what it reported, `failures()` its subtask.failed
 * events, and `reconciled()` the slots it freed (only with `metrics`).
 */
export function recoveryOf(h: Harness, options: Pick<RecoveryOptions, 'metrics' | 'slotGraceMs'> = {}) {
  const bus = createMemoryEventBus({ clock: h.clock });
  const loop = createRecoveryLoop({
    store: h.store,
    leases: h.leases,
    directory: h.directory,
    bus,
    context: h.context,
    config: h.config,
    logger: silentLogger,
    intervalMs: 1000,
    ...options,
  });
  const published = async (topic: string) => (await bus.read(topic)).map((d) => d.value as OrchestrationEvent);
  const failures = async () => (await published(topics.subtaskResults)).filter((e): e is EventOf<'subtask.failed'> => e.type === 'subtask.failed');
  const reconciled = async () => {
    if (!options.metrics) throw new Error('recoveryOf: pass { metrics } to read the reconciled slots');
    return (await options.metrics.slotsReconciled.get()).values[0]?.value ?? 0;
  };
  return { loop, bus, published, failures, reconciled };
}
