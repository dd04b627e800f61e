import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { Config } from '../config.js';
import { OrchestrationError } from '../errors.js';
import { functionSubscriptions, orchestrationEventSchema, type FunctionName, type OrchestrationEvent } from '../events/index.js';
import type { AgentSpawner, EventBus, ReadRange } from '../ports/index.js';
import { deterministicPlanner } from '../../functions/index.js';
import { leaseTtlMs } from '../domain/protocol.js';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { createManualClock, type ManualClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus, type MemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { createDemoAgents } from '../agent-sdk/demo-agents.js';
import type { RuntimePorts } from './functions.js';
import { silentLogger } from '../observability/logger.js';
import { processEvent } from './process-event.js';

export const logRecordSchema = z.object({
  seq: z.number().int().nonnegative(),
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  key: z.string().nullable(),
  timestamp: z.number().finite(),
  value: z.unknown(),
  headers: z.record(z.string(), z.string()),
});
export type LogRecord = z.infer<typeof logRecordSchema>;

export class LogFormatError extends OrchestrationError {
  constructor(message: string) {
    super('LOG_INVALID', message, { retriable: false });
  }
}

/** The bus's retained records as JSON lines, in global publish order. */
export const exportLog = (bus: MemoryEventBus): string =>
  bus
    .exportLog()
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('');

export function parseLog(jsonl: string): LogRecord[] {
  const records: LogRecord[] = [];
  jsonl.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new LogFormatError(`line ${index + 1}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const parsed = logRecordSchema.safeParse(value);
    if (!parsed.success) throw new LogFormatError(`line ${index + 1}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
    records.push(parsed.data);
  });
  return records;
}

/** Where replayed records come from: an exported file today, a broker's topics (from an offset or a time) later. */
export interface ReplaySource {
  records(): Promise<LogRecord[]>;
}
export const recordsSource = (records: LogRecord[]): ReplaySource => ({ records: async () => records });
/** Reads topics of any EventBus; without a global sequence, records are ordered by timestamp. */
export const busSource = (bus: EventBus, topics: readonly string[], range?: ReadRange): ReplaySource => ({
  async records() {
    const all = (await Promise.all(topics.map((topic) => bus.read(topic, range)))).flat();
    return all.sort((a, b) => a.timestamp - b.timestamp || a.offset - b.offset).map((delivery, seq) => ({ ...delivery, seq }));
  },
});

/** The demo spawner itself, never started: the same registration as live, and no work. */
export const replaySpawner = (config: Config, clock: ManualClock): AgentSpawner =>
  createDemoAgents({
    bus: createMemoryEventBus(), // never published to: the agents are never started
    directory: createMemoryAgentDirectory(),
    leases: createMemoryLeaseStore(clock),
    context: { ids: createIds(), clock, source: 'amas/replay' },
    config,
    logger: silentLogger,
  }).spawner;

export type ReplayPorts = RuntimePorts & { clock: ManualClock; close(): Promise<void> };

/** A fresh embedded state (PGlite, memory leases and directory) driven by a clock that replay sets. */
export async function createReplayPorts(config: Config): Promise<ReplayPorts> {
  const clock = createManualClock(0);
  const store = createSqlWorkflowStore(await createPgliteClient());
  await store.migrate();
  const leases = createMemoryLeaseStore(clock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  const spawner = replaySpawner(config, clock);
  const ports = { store, leases, directory, planner: deterministicPlanner, spawner, clock, ids: createIds(), config, source: 'amas/orchestration' };
  return { ...ports, close: async () => void (await store.close()) };
}

export interface Divergence {
  function: FunctionName;
  causeId: string;
  eventId: string;
  problem: 'not_logged' | 'different' | 'not_emitted';
  logged?: unknown;
  replayed?: unknown;
}

export interface ReplaySummary {
  records: number;
  processed: Record<FunctionName, number>;
  divergences: Divergence[];
  workflowIds: string[];
}

const consumerOf = new Map<string, FunctionName>(Object.entries(functionSubscriptions).map(([name, { topic }]) => [topic, name as FunctionName]));

interface Step {
  at: number;
  record: LogRecord;
  run?: FunctionName;
}

const eventIdOf = (value: unknown): string | undefined => {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Orders the work as it was committed live. The relay publishes outbox rows in commit order, so a
 * consumed record is replayed just before the first event it caused; one that caused nothing goes
 * right after its own record (and never before its predecessor in the partition).
 */
function schedule(records: readonly LogRecord[], firstSeq: Map<string, number>, ports: RuntimePorts): Step[] {
  const steps: Step[] = [];
  const lastInPartition = new Map<string, number>();
  for (const record of records) {
    steps.push({ at: record.seq, record });
    const run = consumerOf.get(record.topic);
    const id = eventIdOf(record.value);
    if (!run || !id) continue;
    const caused = firstSeq.get(ports.ids.derivedId(id, 0));
    const partition = `${record.topic}#${record.partition}`;
    const at = Math.max(caused !== undefined && caused > record.seq ? caused - 0.5 : record.seq + 0.25, (lastInPartition.get(partition) ?? -1) + 1e-6);
    lastInPartition.set(partition, at);
    steps.push({ at, record, run });
  }
  return steps.sort((a, b) => a.at - b.at);
}

/** An emitted event as compared: its time and any deadline are wall-clock facts, not decisions. */
const comparable = (event: unknown): unknown => {
  const { type, data } = event as { type: string; data: Record<string, unknown> };
  // The deadline is clock-bound and the carried state is the engine's copy of what the commit wrote, not a decision.
  const { deadline: _deadline, carried: _carried, ...rest } = data;
  return JSON.parse(JSON.stringify({ type, data: rest })) as unknown;
};

/**
 * Rebuilds state by running the recorded inputs through the same `processEvent` path into fresh
 * ports, one at a time, with the clock at the log's time; checks the handlers emit what the log holds.
 */
export async function replayLog(records: readonly LogRecord[], ports: ReplayPorts): Promise<ReplaySummary> {
  const ordered = [...records].sort((a, b) => a.seq - b.seq);
  const logged = new Map<string, { seq: number; value: unknown }>();
  for (const record of ordered) {
    const id = eventIdOf(record.value);
    if (id && !logged.has(id)) logged.set(id, { seq: record.seq, value: record.value });
  }
  const firstSeq = new Map([...logged].map(([id, { seq }]) => [id, seq]));
  const summary: ReplaySummary = {
    records: ordered.length,
    processed: { decompose: 0, assign: 0, dispatch: 0, complete: 0, control: 0 },
    divergences: [],
    workflowIds: [],
  };

  for (const step of schedule(ordered, firstSeq, ports)) {
    const parsed = orchestrationEventSchema.safeParse(step.record.value);
    if (!parsed.success) continue; // dead letters and foreign records are not inputs
    const event = parsed.data;
    if (!step.run) {
      ports.clock.set(Math.max(ports.clock.now(), step.record.timestamp));
      await applyRecord(event, step.record, ports, summary);
      continue;
    }
    const result = await processEvent(step.run, event, ports);
    summary.processed[step.run] += 1;
    if (result.status === 'applied' || result.status === 'skipped') compare(step.run, event.id, result.outcome.emit, logged, ports, summary);
  }
  return summary;
}

/** Records that are not function inputs but shape later decisions: workflow rows and the agent directory. */
async function applyRecord(event: OrchestrationEvent, record: LogRecord, ports: ReplayPorts, summary: ReplaySummary): Promise<void> {
  if (event.type === 'task.submitted') {
    const { workflowId, description, priority, metadata } = event.data;
    if (await ports.store.getWorkflow(workflowId)) return;
    await ports.store.createWorkflow({ id: workflowId, description, priority, metadata, idempotencyKey: null, createdAt: event.time }, []);
    summary.workflowIds.push(workflowId);
  } else if (event.type === 'agent.registered') {
    const { agentId, ...rest } = event.data;
    await ports.directory.register({ ...rest, id: agentId }, record.timestamp);
  } else if (event.type === 'agent.heartbeat' && (await ports.directory.get(event.data.agentId))) {
    await ports.directory.heartbeat(event.data.agentId, record.timestamp);
    await ports.leases.renewHolder(event.data.agentId, leaseTtlMs(ports.config));
  }
}

function compare(
  run: FunctionName,
  causeId: string,
  emitted: readonly OrchestrationEvent[],
  logged: Map<string, { value: unknown }>,
  ports: RuntimePorts,
  summary: ReplaySummary,
): void {
  for (const event of emitted) {
    const original = logged.get(event.id);
    if (!original) summary.divergences.push({ function: run, causeId, eventId: event.id, problem: 'not_logged', replayed: comparable(event) });
    else if (!isDeepStrictEqual(comparable(original.value), comparable(event))) {
      summary.divergences.push({
        function: run,
        causeId,
        eventId: event.id,
        problem: 'different',
        logged: comparable(original.value),
        replayed: comparable(event),
      });
    }
  }
  const missing = ports.ids.derivedId(causeId, emitted.length);
  const extra = logged.get(missing);
  if (extra) summary.divergences.push({ function: run, causeId, eventId: missing, problem: 'not_emitted', logged: comparable(extra.value) });
}
