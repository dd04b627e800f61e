// The whole hierarchy on the real servers: 40 SDK agents in four layers (2 executives, 6 leads, 28
// specialists, 4 execution agents) on Kafka + PostgreSQL + Redis + Neo4j run a workflow that needs
// approval. A specialist fails one subtask twice: the failure is escalated to its lead over the bus;
// the quality supervisor approves the delivery over the bus; Neo4j holds who worked on what. The
// seed's "Test Agent Communication" example runs through the SDK and over HTTP.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Kafka, logLevel } from 'kafkajs';
import neo4j, { type Driver } from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicPlanner } from '../../functions/index.js';
import { orchestratorId } from '../../functions/index.js';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createNeo4jAgentDirectory, type Neo4jAgentDirectory } from '../../shared/adapters/neo4j/agent-directory.neo4j.js';
import { createRedisClient, createRedisLeaseStore } from '../../shared/adapters/redis/lease-store.redis.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlChangeLog } from '../../shared/adapters/sql/change-log.sql.js';
import type { StateChangeRecord } from '../../shared/api/stream.js';
import type { ChangeLog } from '../../shared/ports/change-log.port.js';
import { readStream } from '../unit/helpers/sse.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { createAgent, type Agent } from '../../shared/agent-sdk/create-agent.js';
import { createSubtaskInbox } from '../../shared/agent-sdk/subtask-inbox.js';
import { defaultConfig } from '../../shared/config.js';
import { allSpecialties, groupOf, leadRoleOf, managementRoles, type Layer, type Specialty } from '../../shared/domain/vocabulary.js';
import type { AgentMessage } from '../../shared/messaging/message-schema.js';
import { issueAgentToken } from '../../shared/messaging/message-auth.js';
import type { EventBus, WorkflowStore } from '../../shared/ports/index.js';
import { createApiApp } from '../../shared/http-api/app.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { kafkaCoordinatorAnswers } from './helpers/kafka-ready.js';
import { bounded, startupSteps } from './helpers/startup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const run = randomUUID().slice(0, 8);
const topicPrefix = `it-hier-${run}.`;
const schema = `amas_it_hier_${run}`;
const description = 'Research the EV battery market, analyse pricing data, and write a report with an infographic';
// The delivery approval (requireApproval) is what this run checks: plans themselves do not wait.
const config = defaultConfig({
  ORCHESTRATION_RETRY_DELAY_INITIAL: 0.05,
  ORCHESTRATION_RETRY_DELAY_MAX: 0.2,
  ORCHESTRATION_HEARTBEAT_INTERVAL: 5,
  ORCHESTRATION_PLAN_APPROVAL: 'OFF',
});

let bus: EventBus;
let store: WorkflowStore;
let sqlAdmin: SqlClient;
let driver: Driver;
let directory: Neo4jAgentDirectory;
let runtime: Runtime;
let server: Server;
let baseUrl: string;
let changeLog: ChangeLog;
const redis = createRedisClient();
const agents = new Map<string, Agent>();
const inboxOf = new Map<string, AgentMessage[]>();
const attemptsOf = new Map<string, number>();
let flakySubtask: string | null = null;

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

// Every start-up step is bounded and named: a hang fails with where it was, not a hook timeout.
beforeAll(async () => {
  const steps = startupSteps('hierarchy-e2e');
  sqlAdmin = createPgClient(databaseUrl, { maxConnections: 1 });
  await steps.step('PostgreSQL: create the schema', 15_000, () => sqlAdmin.query(`CREATE SCHEMA ${schema}`));
  const sql = createPgClient(databaseUrl, { schema, maxConnections: 4 });
  store = createSqlWorkflowStore(sql);
  changeLog = createSqlChangeLog(sql);
  await steps.step('Kafka: a group coordinator answers', 60_000, () => kafkaCoordinatorAnswers(brokers, `it-hier-${run}-probe`));
  bus = createKafkaEventBus({
    brokers,
    clientId: `it-hier-${run}`,
    partitions: 3,
    topicPrefix,
    consumer: testConsumerTimings,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
  });
  driver = neo4j.driver(process.env.NEO4J_URL ?? 'bolt://127.0.0.1:7687', undefined, { connectionAcquisitionTimeout: 20_000, connectionTimeout: 10_000 });
  directory = createNeo4jAgentDirectory(driver, { namespace: `it-hier-${run}`, maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  await steps.step('Neo4j: migrate (constraints and indexes)', 60_000, () => directory.migrate());
  const leases = createRedisLeaseStore(redis, { prefix: `it-hier-${run}:` });
  runtime = await steps.step('runtime: schema migration, four function consumers and the message relay join their groups', 90_000, () =>
    startRuntime({
      config,
      adapters: { bus, store, leases, directory, changeLog },
      logger: silentLogger,
      demoAgents: false,
      relayIntervalMs: 50,
      recoveryIntervalMs: 500,
      messaging: { secret: `it-hier-secret-${run}`, groupId: `it-hier-${run}-messages` },
    }),
  );
  server = await steps.step(
    'HTTP: the API listens',
    10_000,
    () =>
      new Promise((resolve) => {
        const listening = createApiApp(runtime).listen(0, '127.0.0.1', () => resolve(listening));
      }),
  );
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  // Four layers. Specialists cover the plan's specialties twice, then the rest of the vocabulary.
  const plan = await deterministicPlanner.plan({ workflowId: 'probe', description, maxSubtasks: config.ORCHESTRATION_MAX_SUBTASKS });
  const required = plan.requiredSpecialists;
  const specialists: Specialty[] = [...required, ...required, ...allSpecialties.filter((s) => !required.includes(s))].slice(0, 28);
  const inbox = createSubtaskInbox({ bus, groupId: `it-hier-${run}-agents`, logger: silentLogger });
  const messages = runtime.messages ?? undefined;
  if (!messages) throw new Error('messaging is off');
  const leadIdOf = (role: string) => `lead-${role}`;
  const make = async (id: string, layer: Layer, extra: Partial<Parameters<typeof createAgent>[0]> = {}) => {
    inboxOf.set(id, []);
    // The first agent also joins the shared inbox's consumer group.
    const agent = await steps.step(`createAgent ${id} (#${agents.size + 1})`, agents.size === 0 ? 60_000 : 20_000, () =>
      createAgent({
        id,
        layer,
        specialties: [],
        bus,
        directory,
        leases,
        config,
        messages,
        inbox,
        logger: silentLogger,
        handle: async (task) => {
          // The first two attempts of the flaky subtask fail: an escalation must reach the lead.
          const n = (attemptsOf.get(task.subtaskId) ?? 0) + 1;
          attemptsOf.set(task.subtaskId, n);
          if (task.subtaskId === flakySubtask && n <= 2) throw new Error(`flaky attempt ${n}`);
          return { quality: 0.97, output: { by: id, title: task.title } };
        },
        onMessage: (message) => void inboxOf.get(id)!.push(message),
        ...extra,
      }),
    );
    agents.set(id, agent);
    return agent;
  };
  await make('exec-coordinator', 'EXECUTIVE', { role: 'task_coordinator' });
  const quality = await make('exec-quality', 'EXECUTIVE', { role: 'quality_supervisor' });
  // The executive layer makes the delivery decision: it approves what the orchestrator presents.
  quality.onMessage(async (message) => {
    inboxOf.get('exec-quality')!.push(message);
    if (message.messageType !== 'APPROVAL_REQUEST') return;
    await quality.sendMessage({
      recipientId: orchestratorId,
      messageType: 'APPROVAL_RESPONSE',
      priority: 'HIGH',
      payload: { workflowId: message.payload.workflowId, approved: true },
    });
  });
  for (const role of managementRoles) await make(leadIdOf(role), 'MANAGEMENT', { role, supervisorId: 'exec-coordinator' });
  let n = 0;
  for (const specialty of specialists) {
    await make(`spec-${specialty}-${++n}`, 'SPECIALIST', { role: specialty, specialties: [specialty], supervisorId: leadIdOf(leadRoleOf[groupOf(specialty)]) });
  }
  for (const id of ['agent_1', 'agent_2', 'tool-manager', 'api-gateway']) {
    await make(id, 'EXECUTION', { role: id.startsWith('agent') ? 'integration_agent' : id.replace('-', '_'), supervisorId: leadIdOf('integration_team_lead') });
  }
  steps.finish();
}, 180_000);

afterAll(async () => {
  // Each clean-up step is bounded too: one stuck close must not hide the test's own outcome.
  const quietly = (what: string, ms: number, fn: () => Promise<unknown>) =>
    bounded(what, ms, fn).catch((error: unknown) => void process.stderr.write(`[hierarchy-e2e] clean-up: ${String(error)}\n`));
  for (const agent of agents.values()) await quietly(`stop agent ${agent.id}`, 10_000, () => agent.stop());
  await quietly('close the HTTP server', 10_000, () => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))));
  await quietly('stop the runtime', 30_000, async () => runtime?.stop());
  await quietly('close the bus', 30_000, async () => bus?.close());
  await quietly('close the store', 10_000, async () => store?.close());
  await quietly('clear the Neo4j namespace', 20_000, async () => directory?.clear());
  await quietly('close the Neo4j driver', 10_000, async () => driver?.close());
  await quietly('delete the Redis keys', 10_000, async () => {
    const keys = await redis.keys(`it-hier-${run}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  redis.disconnect();
  await quietly('drop the schema', 20_000, () => sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  await quietly('close the PostgreSQL admin', 10_000, () => sqlAdmin.close());
  await quietly('delete the Kafka topics', 30_000, async () => {
    const admin = new Kafka({ clientId: `it-hier-${run}-admin`, brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const ours = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
      if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    } finally {
      await admin.disconnect();
    }
  });
}, 180_000);

describe('a 40-agent hierarchy on Kafka + PostgreSQL + Redis + Neo4j', () => {
  it('registers four layers with their REPORTS_TO chains', async () => {
    const status = await directory.hierarchyStatus(Date.now(), 60_000);
    expect(status.totalAgents).toBe(40);
    expect([status.layers.EXECUTIVE.count, status.layers.MANAGEMENT.count, status.layers.SPECIALIST.count, status.layers.EXECUTION.count]).toEqual([
      2, 6, 28, 4,
    ]);
    const specialist = [...agents.keys()].find((id) => id.startsWith('spec-data_analyst'))!;
    expect(await directory.reportingChain(specialist)).toEqual([specialist, 'lead-analysis_team_lead', 'exec-coordinator']);
  });

  it('runs a workflow to approval: escalation to the lead, approval by the quality supervisor, WORKED_ON in Neo4j', async () => {
    const response = await fetch(`${baseUrl}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description, requireApproval: true }),
    });
    expect(response.status).toBe(202);
    const { workflowId } = (await response.json()) as { workflowId: string };
    // The live stream follows the same workflow through PostgreSQL's change log while Kafka carries the work.
    const streamed = readStream(`${baseUrl}/v1/workflows/${workflowId}/events`, { timeoutMs: 120_000 });
    await until(async () => (await store.getSubtasks(workflowId)).length > 0, 'the plan');
    const subtasks = await store.getSubtasks(workflowId);
    flakySubtask = subtasks.find((s) => s.specialty === 'data_analyst')!.id;

    await until(async () => (await store.getWorkflow(workflowId))?.status === 'completed', 'the approved workflow', 90_000);
    const done = await store.getSubtasks(workflowId);
    expect(done.every((s) => s.status === 'completed')).toBe(true);
    expect(done.find((s) => s.id === flakySubtask)!.attempts).toBe(3);
    const { messages } = await streamed;
    expect(messages.at(-1)).toEqual({ event: 'end', data: { workflowId, status: 'completed' } });
    const changes = messages.filter((m) => m.event === 'change').map((m) => m.data as StateChangeRecord);
    expect(changes.filter((c) => c.kind === 'workflow').map((c) => c.status)).toContain('awaiting_approval');
    const flaky = changes.filter((c) => c.subtaskId === flakySubtask);
    expect(flaky.filter((c) => c.status === 'in_progress' && c.previousStatus !== 'in_progress').map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(flaky.map((c) => c.error).filter(Boolean)).toContain('agent_error: flaky attempt 1');

    const approvals = inboxOf.get('exec-quality')!.filter((m) => m.messageType === 'APPROVAL_REQUEST');
    expect(approvals.map((m) => m.payload)).toEqual([expect.objectContaining({ workflowId, subtaskCount: done.length })]);
    await until(() => inboxOf.get('lead-analysis_team_lead')!.some((m) => m.messageType === 'ESCALATION'), 'the escalation');
    const [escalation] = inboxOf.get('lead-analysis_team_lead')!.filter((m) => m.messageType === 'ESCALATION');
    expect(escalation).toMatchObject({ senderId: orchestratorId, priority: 'HIGH' });
    expect(escalation!.payload).toMatchObject({
      workflowId,
      subtaskId: flakySubtask,
      attempts: 2,
      retrying: true,
      reasons: ['agent_error: flaky attempt 1', 'agent_error: flaky attempt 2'],
    });

    // Neo4j holds the WORKED_ON graph: every result, the two failures included.
    let edges = 0;
    for (const id of agents.keys()) edges += (await directory.workOf(id)).filter((w) => w.workflowId === workflowId).length;
    expect(edges).toBeGreaterThanOrEqual(done.length + 1);
  }, 150_000);

  it("runs the seed's 'Test Agent Communication' example through the SDK and over HTTP", async () => {
    const sent = await agents
      .get('agent_1')!
      .sendMessage({ recipientId: 'agent_2', messageType: 'SHARE_FINDINGS', payload: { data: 'test' }, priority: 'NORMAL' });
    expect(sent.messageId).toMatch(/\S/);
    const token = await issueAgentToken(runtime.messageKeys!, 'agent_1', Date.now());
    const response = await fetch(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ senderId: 'agent_1', recipientId: 'agent_2', messageType: 'SHARE_FINDINGS', payload: { data: 'test' }, priority: 'NORMAL' }),
    });
    expect(response.status).toBe(202);
    const overHttp = (await response.json()) as { messageId: string };
    await until(() => inboxOf.get('agent_2')!.filter((m) => m.messageType === 'SHARE_FINDINGS').length === 2, 'both messages at agent_2');
    expect(
      inboxOf
        .get('agent_2')!
        .map((m) => m.messageId)
        .sort(),
    ).toEqual([sent.messageId, overHttp.messageId].sort());
    expect(inboxOf.get('agent_2')!.every((m) => m.senderId === 'agent_1' && m.payload.data === 'test')).toBe(true);
  }, 60_000);
});
