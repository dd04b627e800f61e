// `amas replay --kafka`: workflows run on the real broker, then their retained records are re-driven
// from Kafka into a fresh state, which must end up the same, with no divergence in emitted events.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createIds } from '../../shared/adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../../shared/adapters/memory/lease-store.memory.js';
import { createKafkaEventBus, testConsumerTimings } from '../../shared/adapters/kafka/event-bus.kafka.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { defaultConfig } from '../../shared/config.js';
import { makeEvent, taskSubmitted, type OrchestrationEvent } from '../../shared/events/index.js';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { toOutbox } from '../../shared/engine/process-event.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { waitFor } from '../contract/event-bus.contract.js';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const topicPrefix = `it-replay-${randomUUID().slice(0, 8)}.`;
const config = defaultConfig({
  ORCHESTRATION_DEMO_AGENT_DELAY_MS: 5,
  ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: 1,
  ORCHESTRATION_DEMO_LOW_QUALITY_RATE: 0.3,
  ORCHESTRATION_PLAN_APPROVAL: 'OFF',
});
const descriptions = [
  'Research AI market trends and create presentation',
  'Research competitor pricing and create report',
  'Analyse churn data and write a report',
];

function cli(env: Record<string, string>) {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: { ...env } };
  return { io, output: () => ({ out, err }) };
}

describe('amas replay --kafka', () => {
  let runtime: Runtime;
  const workflowIds: string[] = [];

  beforeAll(async () => {
    const store = createSqlWorkflowStore(await createPgliteClient());
    const bus = createKafkaEventBus({ brokers: brokers.split(','), clientId: `it-replay-${topicPrefix}`, topicPrefix, consumer: testConsumerTimings });
    runtime = await startRuntime({
      config,
      adapters: { bus, store, leases: createMemoryLeaseStore(systemClock), directory: createMemoryAgentDirectory({ maxTasksPerAgent: 3 }) },
      logger: silentLogger,
      demoAgents: true,
      messaging: false,
      relayIntervalMs: 50,
    });
    for (const description of descriptions) {
      const workflowId = `wf_${randomUUID()}`;
      const event = makeEvent(
        taskSubmitted,
        { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false },
        { ids: createIds(), clock: systemClock, source: 'amas/test' },
      );
      await store.createWorkflow(
        { id: workflowId, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: event.time },
        toOutbox([event as OrchestrationEvent]),
      );
      workflowIds.push(workflowId);
    }
    runtime.relay.kick();
    for (const id of workflowIds) await waitFor(async () => (await store.getWorkflow(id))?.status === 'completed', 60_000, `${id} to complete`);
    await waitFor(async () => (await store.pendingOutbox(1)).length === 0, 10_000, 'the outbox to drain');
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
    await runtime?.bus.close();
    const admin = new Kafka({ clientId: 'it-replay-admin', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours }).catch(() => undefined);
    await admin.disconnect();
  });

  it('re-drives the retained records into a fresh state that ends the same', async () => {
    const { io, output } = cli({
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: '1',
      ORCHESTRATION_PLAN_APPROVAL: 'off',
    });
    const code = await runCli(['replay', '--kafka', '--from-offset', '0'], io);
    const { out, err } = output();
    for (const id of workflowIds) {
      const live = await runtime.ports.store.getSubtasks(id);
      const line = out.split('\n').find((l) => l.startsWith(id));
      expect(line).toContain('completed');
      expect(line).toContain(`subtasks: ${live.length} (${live.length} completed)`);
      expect(line).toContain(`attempts: ${live.reduce((sum, s) => sum + s.attempts, 0)}`);
    }
    // Kafka keeps no order across topics (records are merged by timestamp), so decisions that depend
    // on the moment's free capacity may come out in another order: a capacity wake-up (subtask.ready)
    // re-emitted under another cause, or an assignment that yielded to a waiting re-run first
    // (subtask.assigned), and so its dispatch under another lease token (subtask.dispatched). The final
    // state above must match; any other divergence (results, workflow events) is a real one.
    const divergences = err
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as { logged?: { type?: string }; replayed?: { type?: string } });
    const scheduling = ['subtask.ready', 'subtask.assigned', 'subtask.dispatched'];
    expect(
      divergences.filter((d) => !scheduling.includes(d.logged?.type ?? d.replayed?.type ?? '')),
      err,
    ).toEqual([]);
    expect(code).toBe(divergences.length === 0 ? 0 : 1);
  });

  it('names a bad argument and exits 2', async () => {
    const { io, output } = cli({ KAFKA_BROKERS: brokers });
    expect(await runCli(['replay', '--kafka', '--from-time', 'yesterday'], io)).toBe(2);
    expect(output().err).toContain('--from-time "yesterday" is not a date');
    expect(await runCli(['replay', '--kafka', '--topic', 'amas.nope'], io)).toBe(2);
    expect(await runCli(['replay', '--kafka'], cli({}).io)).toBe(2);
  });
});
