// The orchestrator split one function per runtime over the real Kafka broker and PostgreSQL, as
// `main-function.ts` deploys it: a workflow completes; redelivery changes nothing; poison goes to
// the dead-letter topic while valid work flows on; per-workflow order holds across a consumer group.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicPlanner } from '../../functions/index.js';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createIds } from '../../shared/adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../../shared/adapters/memory/lease-store.memory.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { defaultConfig } from '../../shared/config.js';
import type { Workflow } from '../../shared/domain/workflow.js';
import { deadLetterTopic, makeEvent, taskSubmitted, topics, type ConsumerName, type OrchestrationEvent } from '../../shared/events/index.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { Delivery, EventBus, Subscription, WorkflowStore } from '../../shared/ports/index.js';
import { deadLetterType } from '../../shared/engine/dead-letter.js';
import type { RuntimePorts } from '../../shared/engine/functions.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { processEvent, toOutbox, type ProcessResult } from '../../shared/engine/process-event.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { waitFor } from '../contract/event-bus.contract.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const run = randomUUID().slice(0, 8);
/** The runtime's topic and group names are fixed; the prefix gives this run its own of each. */
const topicPrefix = `it-pipe-${run}.`;
const schema = `amas_it_pipe_${run}`;
/** The redelivery tests run no relay and no runtime: their outbox rows must stay where they were written. */
const quietSchema = `amas_it_pipe_quiet_${run}`;
const config = defaultConfig({
  ORCHESTRATION_DEMO_AGENT_DELAY_MS: 5,
  ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: 1,
  ORCHESTRATION_RETRY_DELAY_INITIAL: 0.05,
  ORCHESTRATION_RETRY_DELAY_MAX: 0.2,
  ORCHESTRATION_PLAN_APPROVAL: 'OFF',
});

let buses = 0;
const makeBus = (): EventBus =>
  createKafkaEventBus({
    brokers,
    clientId: `it-pipe-${run}-${++buses}`,
    partitions: 6,
    topicPrefix,
    consumer: testConsumerTimings,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
  });

let admin: Admin;
let sqlAdmin: SqlClient;
const closers: (() => Promise<void>)[] = [];
const openStore = (inSchema = schema): WorkflowStore => {
  const store = createSqlWorkflowStore(createPgClient(databaseUrl, { schema: inSchema, maxConnections: 3 }));
  closers.push(() => store.close());
  return store;
};
const openBus = (): EventBus => {
  const bus = makeBus();
  closers.push(() => bus.close());
  return bus;
};

beforeAll(async () => {
  admin = new Kafka({ clientId: `it-pipe-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  sqlAdmin = createPgClient(databaseUrl, { maxConnections: 1 });
  await sqlAdmin.query(`CREATE SCHEMA ${schema}`);
  await sqlAdmin.query(`CREATE SCHEMA ${quietSchema}`);
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  await sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema}, ${quietSchema} CASCADE`);
  await sqlAdmin.close();
  await deleteKafkaPrefix(admin, topicPrefix);
  await admin.disconnect();
});

/** Creates a workflow with its task.submitted in the outbox, as POST /v1/tasks does. */
async function submit(store: WorkflowStore, description: string, workflowId = `wf_${randomUUID()}`): Promise<AnyCloudEvent> {
  const event = makeEvent(
    taskSubmitted,
    { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false },
    { ids: createIds(), clock: systemClock, source: 'amas/test' },
  );
  await store.createWorkflow(
    { id: workflowId, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: event.time },
    toOutbox([event as OrchestrationEvent]),
  );
  return event;
}

async function settle(store: WorkflowStore, workflowId: string, timeoutMs = 60_000): Promise<Workflow> {
  let workflow: Workflow | null = null;
  await waitFor(
    async () => ['completed', 'failed', 'cancelled'].includes((workflow = await store.getWorkflow(workflowId))?.status ?? ''),
    timeoutMs,
    `workflow ${workflowId} to finish`,
  );
  return workflow!;
}

describe('Kafka pipeline: one function per runtime', () => {
  const leases = createMemoryLeaseStore(systemClock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  const runtimes = new Map<ConsumerName | 'agents', Runtime>();
  let store: WorkflowStore;
  let bus: EventBus;

  beforeAll(async () => {
    store = openStore();
    bus = openBus();
    // Leases and the directory are still in-memory adapters, so the "processes" share one of each.
    const start = async (name: ConsumerName | 'agents') => {
      const runtime = await startRuntime({
        config,
        adapters: { bus: openBus(), store: openStore(), leases, directory },
        logger: silentLogger,
        functions: name === 'agents' ? [] : [name],
        demoAgents: name === 'agents',
        recovery: false,
        relayIntervalMs: 50,
      });
      runtimes.set(name, runtime);
      closers.push(() => runtime.stop());
    };
    await start('agents');
    await Promise.all((['decompose', 'assign', 'dispatch', 'complete'] as const).map(start));
  });

  it('(a) completes a workflow handed from runtime to runtime over Kafka', async () => {
    const submitted = await submit(store, 'Research AI market trends and create presentation');
    const workflowId = (submitted.data as { workflowId: string }).workflowId;
    const workflow = await settle(store, workflowId);
    expect(workflow.status).toBe('completed');
    const subtasks = await store.getSubtasks(workflowId);
    expect(subtasks.length).toBeGreaterThan(1);
    expect(subtasks.every((s) => s.status === 'completed')).toBe(true);
    // Each function ran in its own runtime and nowhere else.
    for (const name of ['decompose', 'assign', 'dispatch', 'complete'] as const) {
      const processed = await runtimes.get(name)!.metrics.eventsProcessed.get();
      expect(new Set(processed.values.filter((v) => v.value > 0).map((v) => v.labels.function))).toEqual(new Set([name]));
    }
    // The state commit and the relay's publish of its outbox are two steps: wait for the second.
    const published = async () =>
      (await bus.read(topics.workflows)).some((d) => d.key === workflowId && (d.value as AnyCloudEvent).type === 'workflow.completed');
    await waitFor(published, 10_000, 'workflow.completed to be published');
  });

  it('(c) dead-letters garbage and a schema-invalid event with their reasons, and valid work flows on', async () => {
    const workflowId = `wf_${randomUUID()}`;
    // Same key as the workflow that follows: its subtask.ready events queue behind the poison.
    const producer = new Kafka({ clientId: `it-pipe-raw-${run}`, brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: `${topicPrefix}${topics.subtaskReady}`, messages: [{ key: workflowId, value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) }] });
    await producer.disconnect();
    const invalid: AnyCloudEvent = {
      specversion: '1.0',
      id: `bad-${run}`,
      source: 'amas/test',
      type: 'subtask.ready',
      time: new Date().toISOString(),
      data: { workflowId },
    };
    await bus.publish(topics.subtaskReady, [{ key: workflowId, event: invalid }]);
    await submit(store, 'Write a short report', workflowId);

    expect((await settle(store, workflowId)).status).toBe('completed');
    let letters: Delivery[] = [];
    await waitFor(
      async () => (letters = (await bus.read(deadLetterTopic(topics.subtaskReady))).filter((d) => d.key === workflowId)).length === 2,
      20_000,
      'two dead letters',
    );
    const data = letters.map((d) => d.value as AnyCloudEvent & { data: { reason: string; code: string; original: unknown; consumer: string } });
    expect(data.every((e) => e.type === deadLetterType && e.data.code === 'INVALID_EVENT' && e.data.consumer === 'assign')).toBe(true);
    expect(data[0]!.data.original).toBe(Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString());
    expect(data[0]!.data.reason).toMatch(/^invalid event: /);
    expect(data[1]!.data.original).toMatchObject({ id: invalid.id });
    expect(data[1]!.data.reason).toMatch(/subtaskId/);
  });
});

describe('Kafka pipeline: redelivery', () => {
  let ports: RuntimePorts;
  beforeAll(async () => {
    ports = {
      store: openStore(quietSchema),
      leases: createMemoryLeaseStore(systemClock),
      directory: createMemoryAgentDirectory(),
      planner: deterministicPlanner,
      clock: systemClock,
      ids: createIds(),
      config,
      source: 'amas/test',
    };
    await ports.store.migrate();
  });
  const snapshot = async (workflowId: string) => ({
    workflow: await ports.store.getWorkflow(workflowId),
    subtasks: await ports.store.getSubtasks(workflowId),
    outbox: (await sqlAdmin.query<{ n: string }>(`SELECT count(*) AS n FROM ${quietSchema}.outbox WHERE key = $1`, [workflowId])).rows[0]!.n,
  });

  it('(b) processing the same event twice through processEvent changes nothing the second time', async () => {
    const event = await submit(ports.store, 'Analyse competitor pricing');
    const workflowId = (event.data as { workflowId: string }).workflowId;
    expect((await processEvent('decompose', event, ports)).status).toBe('applied');
    const after = await snapshot(workflowId);
    expect(Number(after.outbox)).toBeGreaterThan(1);
    expect((await processEvent('decompose', event, ports)).status).toBe('duplicate');
    expect(await snapshot(workflowId)).toEqual(after);
  });

  it('(b) a consumer that dies after the state commit but before the offset commit re-reads the event harmlessly', async () => {
    const bus = openBus();
    const event = await submit(ports.store, 'Summarise the quarterly numbers');
    const workflowId = (event.data as { workflowId: string }).workflowId;
    const topic = `redelivery.${run}`;
    const results: ProcessResult['status'][] = [];
    let afterFirst: Awaited<ReturnType<typeof snapshot>> | undefined;
    const subscription: Subscription = await bus.subscribe({
      topic,
      groupId: `redelivery-${run}`,
      handler: async (delivery) => {
        results.push((await processEvent('decompose', delivery.value, ports)).status);
        if (results.length === 1) {
          afterFirst = await snapshot(workflowId);
          throw new Error('crash between the state commit and the offset commit');
        }
      },
    });
    await bus.publish(topic, [{ key: workflowId, event }]);
    await waitFor(() => results.length === 2, 30_000, 'the redelivery');
    await subscription.stop();
    expect(results).toEqual(['applied', 'duplicate']);
    expect(await snapshot(workflowId)).toEqual(afterFirst);
    expect(await bus.lag(`redelivery-${run}`, topic)).toBe(0);
  });
});

describe('Kafka pipeline: ordering', () => {
  it('(d) keeps each workflow in order: 20 workflows x 30 events, 6 partitions, 3 members of one group, one member replaced midway', async () => {
    const publisher = openBus();
    const topic = `ordering.${run}`;
    const groupId = `ordering-${run}`;
    const seen: { member: number; key: string; seq: number; partition: number }[] = [];
    const join = async (member: number) =>
      openBus().subscribe({
        topic,
        groupId,
        handler: async (d) => void seen.push({ member, key: d.key!, seq: ((d.value as AnyCloudEvent).data as { seq: number }).seq, partition: d.partition }),
      });
    const members = await Promise.all([0, 1, 2].map(join));
    const keys = Array.from({ length: 20 }, (_, i) => `wf-order-${run}-${i}`);
    const publishRound = (seq: number) =>
      publisher.publish(
        topic,
        keys.map((key) => ({
          key,
          event: { specversion: '1.0', id: `${key}-${seq}`, source: 'amas/test', type: 'order.test', time: new Date().toISOString(), data: { seq } },
        })),
      );
    for (let seq = 0; seq < 15; seq += 1) await publishRound(seq);
    await members[0]!.stop();
    members.push(await join(3));
    for (let seq = 15; seq < 30; seq += 1) await publishRound(seq);

    const distinct = () => new Set(seen.map((s) => `${s.key}/${s.seq}`)).size;
    await waitFor(() => distinct() === 600, 60_000, '600 distinct records');
    await Promise.all(members.slice(1).map((m) => m.stop()));
    for (const key of keys) {
      const ofKey = seen.filter((s) => s.key === key);
      // First sightings: a rebalance may redeliver (at least once), never reorder.
      expect([...new Set(ofKey.map((s) => s.seq))]).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(new Set(ofKey.map((s) => s.partition)).size).toBe(1);
    }
    expect(new Set(seen.map((s) => s.partition)).size).toBeGreaterThan(1);
    expect(new Set(seen.map((s) => s.member)).size).toBeGreaterThanOrEqual(3);
  });
});
