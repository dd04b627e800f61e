import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { leaseKeyOf } from '../domain/protocol.js';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { defaultConfig, type Config } from '../config.js';
import { groupOf, type Specialty } from '../domain/vocabulary.js';
import { isoTime, makeEvent, taskSubmitted, topics } from '../events/index.js';
import { createCommunicationBus } from '../messaging/communication-bus.js';
import { createDerivedKeyStore } from '../messaging/message-auth.js';
import type { AgentMessage } from '../messaging/message-schema.js';
import { silentLogger } from '../observability/logger.js';
import { toOutbox } from '../engine/process-event.js';
import { startRuntime } from '../runtime/runtime.js';
import { deterministicPlanner } from '../../functions/index.js';
import { createAgent, type Agent, type AgentResult, type AgentTask } from './create-agent.js';
import { createSubtaskInbox } from './subtask-inbox.js';
import { forgetfulLeaseStore } from '../../test/unit/helpers/forgetful-leases.js';

const baseConfig = defaultConfig({
  ORCHESTRATION_HEARTBEAT_INTERVAL: 0.2,
  ORCHESTRATION_RETRY_DELAY_INITIAL: 0.01,
  ORCHESTRATION_RETRY_DELAY_MAX: 0.05,
  ORCHESTRATION_DEMO_AGENTS: false,
});
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// PGlite takes a second or more to start: one per file, a schema per test.
const pglite = createPgliteClient();
let schemas = 0;
afterAll(async () => (await pglite).close());
async function schemaClient(): Promise<SqlClient> {
  const db = await pglite;
  const schema = `sdk_${++schemas}`;
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`SET search_path TO ${schema}`);
  return {
    query: (sql, params) => db.query(sql, params),
    transaction: (fn) => db.transaction(fn),
    close: async () => void (await db.query('SET search_path TO public')),
  };
}

async function harness(overrides: Partial<Config> = {}) {
  const config = { ...baseConfig, ...overrides };
  const bus = createMemoryEventBus({ retryDelayMs: 5 });
  const db = await schemaClient();
  const store = createSqlWorkflowStore(db);
  const directory = createMemoryAgentDirectory();
  const leases = forgetfulLeaseStore(systemClock);
  const ids = createIds();
  const runtime = await startRuntime({
    config,
    adapters: { bus, store, leases, directory, ids },
    logger: silentLogger,
    demoAgents: false,
    relayIntervalMs: 20,
    recoveryIntervalMs: 100,
  });
  const messages = createCommunicationBus({
    eventBus: bus,
    keys: createDerivedKeyStore('sdk-test-secret-0123456789'),
    config,
    logger: silentLogger,
    groupId: 'sdk-test-messages',
  });
  const inbox = createSubtaskInbox({ bus, groupId: 'sdk-test-host', logger: silentLogger });
  const agents: Agent[] = [];
  cleanups.push(async () => {
    for (const agent of agents) await agent.stop();
    await inbox.stop();
    await messages.close();
    await runtime.stop();
    await bus.close();
    await store.close();
  });
  const agent = async (id: string, specialty: Specialty, handle: (task: AgentTask) => Promise<AgentResult>, supervisorId?: string) => {
    const made = await createAgent({
      id,
      layer: 'SPECIALIST',
      specialties: [specialty],
      handle,
      bus,
      directory,
      leases,
      config,
      messages,
      inbox,
      ...(supervisorId ? { supervisorId } : {}),
    });
    agents.push(made);
    return made;
  };
  const submit = async (description: string) => {
    const workflowId = ids.newId('wf');
    const event = makeEvent(
      taskSubmitted,
      { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false },
      { ids, clock: systemClock, source: 'test' },
    );
    await store.createWorkflow(
      { id: workflowId, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: isoTime(Date.now()) },
      toOutbox([event]),
    );
    runtime.relay.kick();
    return workflowId;
  };
  const finished = async (workflowId: string) => {
    for (let i = 0; i < 1500; i++) {
      const workflow = await store.getWorkflow(workflowId);
      if (workflow && ['completed', 'failed', 'cancelled'].includes(workflow.status)) return workflow;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`workflow ${workflowId} did not finish`);
  };
  return { bus, store, directory, leases, messages, agent, submit, finished };
}

const description = 'Research AI market trends and create presentation';
const specialtiesOf = async (text: string) => [
  ...new Set((await deterministicPlanner.plan({ workflowId: 'wf-probe', description: text, maxSubtasks: 50 })).subtasks.map((s) => s.specialty)),
];

/**
 * SDK agents for every specialty of the plan, the first of which holds its work until `release()`;
 * a workflow is submitted and `subtaskId` is the work in hand.
 */
async function workInHand(h: Awaited<ReturnType<typeof harness>>, prefix: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let inHand: ((subtaskId: string) => void) | undefined;
  const started = new Promise<string>((resolve) => (inHand = resolve));
  const agents: Agent[] = [];
  for (const [i, specialty] of (await specialtiesOf(description)).entries()) {
    agents.push(
      await h.agent(`${prefix}-${specialty}`, specialty, async (task) => {
        if (i === 0) {
          inHand?.(task.subtaskId);
          await gate;
        }
        return { quality: 0.97, output: null };
      }),
    );
  }
  const workflowId = await h.submit(description);
  return { agents, workflowId, subtaskId: await started, release };
}

describe('agent SDK on the embedded runtime', () => {
  it('SDK agents for every specialty of the plan complete a submitted workflow, reporting with their fencing tokens', async () => {
    const h = await harness();
    const specialties = await specialtiesOf(description);
    expect(specialties.length).toBeGreaterThan(2);
    const worked: string[] = [];
    for (const specialty of specialties) {
      await h.agent(`sdk-${specialty}`, specialty, async (task) => {
        worked.push(task.subtaskId);
        return { quality: 0.97, output: { by: `sdk-${specialty}`, title: task.title, inputs: task.inputs.length } };
      });
    }
    const workflowId = await h.submit(description);
    const workflow = await h.finished(workflowId);
    expect(workflow.status).toBe('completed');
    const subtasks = await h.store.getSubtasks(workflowId);
    expect(subtasks.every((s) => s.status === 'completed')).toBe(true);
    for (const subtask of subtasks) expect(subtask.output).toMatchObject({ by: `sdk-${subtask.specialty}` });
    expect(new Set(worked)).toEqual(new Set(subtasks.map((s) => s.id)));
    const registered = (await h.bus.read(topics.agents)).filter((d) => (d.value as { type: string }).type === 'agent.registered');
    expect(registered).toHaveLength(specialties.length);
  });

  it('a subtask whose agent throws is re-run on another agent of the specialty', async () => {
    const h = await harness();
    const specialties = await specialtiesOf(description);
    const broken = specialties[0]!;
    const failures: string[] = [];
    // Same score, and ids sort the broken one first: it is picked first.
    await h.agent(`a-broken-${broken}`, broken, async (task) => {
      failures.push(task.subtaskId);
      throw new Error('tool crashed');
    });
    for (const specialty of specialties) await h.agent(`b-good-${specialty}`, specialty, async () => ({ quality: 0.95, output: { ok: specialty } }));
    const workflow = await h.finished(await h.submit(description));
    expect(workflow.status).toBe('completed');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    const retried = await h.store.getSubtask(failures[0]!);
    expect(retried).toMatchObject({ status: 'completed', assignedAgent: `b-good-${broken}`, output: { ok: broken } });
    expect(retried!.attempts).toBeGreaterThanOrEqual(2);
    const agentErrors = (await h.bus.read(topics.subtaskResults))
      .map((d) => d.value as { type: string; data: { cause?: string; agentId: string } })
      .filter((e) => e.type === 'subtask.failed');
    expect(agentErrors[0]!.data).toMatchObject({ cause: 'agent_error', agentId: `a-broken-${broken}` });
  });

  it('heartbeats renew its directory record but not leases of work it does not have in hand; stop() tells the supervisor and goes OFFLINE', async () => {
    const h = await harness();
    const notices: AgentMessage[] = [];
    await h.messages.onMessage('lead', (m) => void notices.push(m));
    const agent = await h.agent('sdk-hb', 'data_analyst', async () => ({ quality: 1, output: null }), 'lead');
    const lease = await h.leases.acquire('subtask:x', 'sdk-hb', 100);
    const before = (await h.directory.get('sdk-hb'))!.lastHeartbeat;
    await new Promise((r) => setTimeout(r, 60));
    await agent.heartbeat();
    expect((await h.directory.get('sdk-hb'))!.lastHeartbeat).toBeGreaterThan(before);
    // A lease under its name that it is not working on (a predecessor's lost work) is left to expire.
    expect((await h.leases.get('subtask:x'))!.expiresAt).toBe(lease!.expiresAt);
    const beats = (await h.bus.read(topics.agents)).filter((d) => (d.value as { type: string }).type === 'agent.heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(1);
    await agent.stop();
    expect((await h.directory.get('sdk-hb'))!.status).toBe('OFFLINE');
    for (let i = 0; i < 200 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(notices[0]).toMatchObject({ senderId: 'sdk-hb', messageType: 'SHUTDOWN_NOTICE' });
  });

  it('heartbeats keep alive the lease of work in hand, by its token', async () => {
    const h = await harness();
    const { agents, workflowId, subtaskId, release } = await workInHand(h, 'sdk-slow');
    const before = (await h.leases.get(leaseKeyOf(subtaskId)))!;
    await new Promise((r) => setTimeout(r, 30));
    await agents[0]!.heartbeat();
    const after = (await h.leases.get(leaseKeyOf(subtaskId)))!;
    expect(after.token).toBe(before.token);
    expect(after.expiresAt).toBeGreaterThan(before.expiresAt);
    release();
    expect((await h.finished(workflowId)).status).toBe('completed');
  });

  it('renews the lease of work in hand every third of the lease TTL, independent of its rare heartbeats', async () => {
    // Heartbeats every minute (none during the test), leases of 300 ms renewed every 100 ms, recovery every 100 ms.
    const h = await harness({ ORCHESTRATION_HEARTBEAT_INTERVAL: 60, ORCHESTRATION_LEASE_TTL_SECONDS: 0.3 });
    const { workflowId, subtaskId, release } = await workInHand(h, 'sdk-renew');
    const before = (await h.leases.get(leaseKeyOf(subtaskId)))!;
    // Four lease lifetimes: without renewals the recovery loop would have re-run the work by now.
    await new Promise((r) => setTimeout(r, 1_200));
    const after = (await h.leases.get(leaseKeyOf(subtaskId)))!;
    expect(after).toMatchObject({ token: before.token });
    expect(after.expiresAt).toBeGreaterThan(before.expiresAt + 600);
    expect(await h.store.getSubtask(subtaskId)).toMatchObject({ status: 'in_progress', attempts: 1 });
    const beats = (await h.bus.read(topics.agents)).filter((d) => (d.value as { type: string }).type === 'agent.heartbeat');
    expect(beats).toEqual([]);
    release();
    expect((await h.finished(workflowId)).status).toBe('completed');
  });

  it('takes back the lease of work in hand when the lease store lost it, so recovery does not re-run the work', async () => {
    const h = await harness({ ORCHESTRATION_HEARTBEAT_INTERVAL: 60, ORCHESTRATION_LEASE_TTL_SECONDS: 0.3 });
    const { workflowId, subtaskId, release } = await workInHand(h, 'sdk-reclaim');
    const before = (await h.leases.get(leaseKeyOf(subtaskId)))!;
    h.leases.forget();
    // Four lease lifetimes: recovery sweeps every 300 ms and reports work whose lease stays missing on two sweeps.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await h.leases.get(leaseKeyOf(subtaskId))).toMatchObject({ holder: before.holder, token: before.token });
    expect(await h.store.getSubtask(subtaskId)).toMatchObject({ status: 'in_progress', attempts: 1, leaseToken: before.token });
    release();
    expect((await h.finished(workflowId)).status).toBe('completed');
    expect((await h.store.getAttempts(workflowId)).filter((a) => a.subtaskId === subtaskId)).toHaveLength(1);
  });

  it('exposes sendMessage and request between agents over the signed bus', async () => {
    const h = await harness();
    const analyst = await h.agent('sdk-analyst', 'data_analyst', async () => ({ quality: 1, output: null }));
    const writer = await h.agent('sdk-writer', 'content_writer_editor', async () => ({ quality: 1, output: null }));
    analyst.onMessage(async (m, ctx) => void (await ctx.reply({ figures: [1, 2, 3], for: m.payload.topic }, { messageType: 'SHARE_FINDINGS' })));
    const reply = await writer.request({
      recipientId: 'sdk-analyst',
      messageType: 'REQUEST_HELP',
      priority: 'HIGH',
      payload: { topic: groupOf('data_analyst') },
    });
    expect(reply).toMatchObject({ senderId: 'sdk-analyst', messageType: 'SHARE_FINDINGS', payload: { figures: [1, 2, 3], for: 'analysis' } });
  });
});
