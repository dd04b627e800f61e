// Agents with no broker, graph or cache credential: two HTTP agents (an API URL and an agent key
// each) do every subtask of a workflow the orchestrator runs on Kafka + PostgreSQL + Redis, and a
// revoked agent's report is refused.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { createRedisClient, createRedisLeaseStore } from '../../shared/adapters/redis/lease-store.redis.js';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { createSqlChangeLog } from '../../shared/adapters/sql/change-log.sql.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { createHttpAgent, type HttpAgent } from '../../shared/agent-sdk/http-agent.js';
import type { AgentWorkItem } from '../../shared/api/agents.js';
import { defaultConfig } from '../../shared/config.js';
import { loadInfra } from '../../shared/env.js';
import { allSpecialties } from '../../shared/domain/vocabulary.js';
import type { EventBus, WorkflowStore } from '../../shared/ports/index.js';
import { createApiApp } from '../../shared/http-api/app.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { kafkaCoordinatorAnswers } from './helpers/kafka-ready.js';
import { bounded, startupSteps } from './helpers/startup.js';
import { deleteKafkaPrefix } from './helpers/kafka-cleanup.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const run = randomUUID().slice(0, 8);
const topicPrefix = `it-http-${run}.`;
const schema = `amas_it_http_${run}`;
const adminKey = `it-admin-${run}-0123456789abcdef`;
const config = defaultConfig({
  ORCHESTRATION_RETRY_DELAY_INITIAL: 0.05,
  ORCHESTRATION_RETRY_DELAY_MAX: 0.2,
  ORCHESTRATION_HEARTBEAT_INTERVAL: 2,
  ORCHESTRATION_PLAN_APPROVAL: 'OFF',
});

let sqlAdmin: SqlClient;
let bus: EventBus;
let store: WorkflowStore;
let runtime: Runtime;
let server: Server;
let baseUrl: string;
const redis = createRedisClient();
const agents: HttpAgent[] = [];

beforeAll(async () => {
  const steps = startupSteps('http-agent.kafka');
  sqlAdmin = createPgClient(databaseUrl, { maxConnections: 1 });
  await steps.step('PostgreSQL: create the schema', 15_000, () => sqlAdmin.query(`CREATE SCHEMA ${schema}`));
  const sql = createPgClient(databaseUrl, { schema, maxConnections: 4 });
  store = createSqlWorkflowStore(sql);
  await steps.step('Kafka: a group coordinator answers', 60_000, () => kafkaCoordinatorAnswers(brokers, `it-http-${run}-probe`));
  bus = createKafkaEventBus({
    brokers,
    clientId: `it-http-${run}`,
    partitions: 3,
    topicPrefix,
    consumer: testConsumerTimings,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 },
  });
  const leases = createRedisLeaseStore(redis, { prefix: `it-http-${run}:` });
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  runtime = await steps.step('runtime: migration and the four function consumers join their groups', 90_000, () =>
    startRuntime({
      config,
      adapters: { bus, store, leases, directory, changeLog: createSqlChangeLog(sql) },
      logger: silentLogger,
      demoAgents: false,
      relayIntervalMs: 50,
      recoveryIntervalMs: 500,
    }),
  );
  const auth = apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey, AMAS_RATE_LIMIT_PER_SECOND: '0' }), {
    keys: createSqlApiKeyStore(sql),
  });
  server = await steps.step(
    'HTTP: the API listens',
    10_000,
    () =>
      new Promise((resolve) => {
        const listening = createApiApp(runtime, { auth }).listen(0, '127.0.0.1', () => resolve(listening));
      }),
  );
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}, 200_000);

afterAll(async () => {
  const quietly = (what: string, ms: number, fn: () => Promise<unknown>) =>
    bounded(what, ms, fn).catch((error: unknown) => void process.stderr.write(`[http-agent.kafka] clean-up: ${String(error)}\n`));
  for (const agent of agents) await quietly(`stop agent ${agent.id}`, 10_000, () => agent.stop());
  await quietly('close the HTTP server', 10_000, () => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))));
  await quietly('stop the runtime', 30_000, async () => runtime?.stop());
  await quietly('close the bus', 30_000, async () => bus?.close());
  await quietly('close the store', 10_000, async () => store?.close());
  await quietly('delete the Redis keys', 10_000, async () => {
    const keys = await redis.keys(`it-http-${run}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  redis.disconnect();
  await quietly('drop the schema', 20_000, () => sqlAdmin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  await quietly('close PostgreSQL', 10_000, () => sqlAdmin.close());
  await quietly('delete the topics and groups', 30_000, async () => {
    const admin = new Kafka({ clientId: `it-http-admin-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await deleteKafkaPrefix(admin, topicPrefix);
    await admin.disconnect();
  });
}, 200_000);

async function call<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

const agentKey = async (agentId: string) =>
  (await call<{ key: string; id: string }>('POST', '/v1/keys', adminKey, { role: 'agent', tenant: '*', agentId })).body;

it("a revoked HTTP agent's report is refused; HTTP-only agents take its work back and complete the workflow on Kafka", async () => {
  // An agent holds work, is revoked, and its report is refused.
  const c = await agentKey('http-c');
  expect((await call('POST', '/v1/agents/register', c.key, { agentId: 'http-c', specialties: [...allSpecialties], capacity: 1 })).status).toBe(201);
  const submitted = await call<{ workflowId: string }>('POST', '/v1/tasks', adminKey, {
    description: 'Research the EV battery market, analyse pricing data and write a report',
  });
  expect(submitted.status).toBe(202);
  const workflowId = submitted.body.workflowId;
  let held: AgentWorkItem | undefined;
  await expect
    .poll(async () => (held = (await call<{ work: AgentWorkItem[] }>('GET', '/v1/agents/http-c/work?waitMs=2000', c.key)).body.work[0]), { timeout: 60_000 })
    .toBeDefined();
  expect(held!.workflowId).toBe(workflowId);
  expect((await call('POST', `/v1/keys/${c.id}/revoke`, adminKey, {})).status).toBe(200);
  const report = {
    status: 'completed',
    subtaskId: held!.subtaskId,
    attempt: held!.attempt,
    leaseToken: held!.leaseToken,
    quality: 1,
    output: 'revoked',
    durationMs: 1,
  };
  expect((await call('POST', '/v1/agents/http-c/results', c.key, report)).status).toBe(401);
  expect(await store.getSubtask(held!.subtaskId)).toMatchObject({ status: 'in_progress', assignedAgent: 'http-c', output: null });

  // Two agents with only the API's URL and their own key finish everything.
  for (const agentId of ['http-a', 'http-b']) {
    const { key } = await agentKey(agentId);
    agents.push(
      await createHttpAgent({
        url: baseUrl,
        token: key,
        agentId,
        specialties: [...allSpecialties],
        pollWaitMs: 5_000,
        handle: async (task) => ({ quality: 0.95, output: { by: agentId, title: task.title } }),
      }),
    );
  }
  await expect.poll(async () => (await store.getWorkflow(workflowId))?.status, { timeout: 120_000, interval: 200 }).toBe('completed');
  const subtasks = await store.getSubtasks(workflowId);
  expect(subtasks.length).toBeGreaterThan(1);
  for (const s of subtasks) {
    expect(s).toMatchObject({ status: 'completed', output: { by: s.assignedAgent, title: s.title } });
    expect(['http-a', 'http-b']).toContain(s.assignedAgent);
  }
  expect(subtasks.find((s) => s.id === held!.subtaskId)!.attempts).toBeGreaterThan(1);
}, 200_000);
