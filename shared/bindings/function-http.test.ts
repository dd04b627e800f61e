import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { defaultConfig } from '../config.js';
import { isoTime, makeEvent, taskSubmitted, topics } from '../events/index.js';
import { createFunctionHttpApp } from './function-http.js';
import { silentLogger } from '../observability/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';

/** The Knative entry point counts and times what the Kafka consumer does, on the same metrics. */
describe('function over HTTP (Knative)', () => {
  let runtime: Runtime;
  let server: Server;
  let url = '';
  beforeAll(async () => {
    const store = createSqlWorkflowStore(await createPgliteClient());
    runtime = await startRuntime({
      config: defaultConfig(),
      adapters: {
        bus: createMemoryEventBus(),
        store,
        leases: createMemoryLeaseStore(systemClock),
        directory: createMemoryAgentDirectory({ maxTasksPerAgent: 3 }),
      },
      logger: silentLogger,
      functions: [],
      recovery: false,
      messaging: false,
    });
    server = await new Promise((resolve) => {
      const listening = createFunctionHttpApp('decompose', runtime).listen(0, '127.0.0.1', () => resolve(listening));
    });
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  }, 30_000);
  afterAll(async () => {
    server?.close();
    await runtime?.stop();
  });

  const post = (event: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await runtime.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_(count|sum)$/, ''));
    const found = metric?.values.find(
      (v) => (v as { metricName?: string }).metricName === name || (!name.endsWith('_count') && Object.entries(labels).every(([k, l]) => v.labels[k] === l)),
    );
    return found?.value ?? 0;
  };

  it('records events processed, decomposition time and message latency like the consumer', async () => {
    const { store, ids } = runtime.ports;
    await store.createWorkflow(
      {
        id: 'wf_http',
        description: 'Research AI market trends and create presentation',
        priority: 'NORMAL',
        metadata: {},
        idempotencyKey: null,
        createdAt: isoTime(Date.now()),
      },
      [],
    );
    const event = makeEvent(
      taskSubmitted,
      { workflowId: 'wf_http', description: 'Research AI market trends and create presentation', priority: 'NORMAL', metadata: {}, requireApproval: false },
      { ids, clock: systemClock, source: 'test' },
    );
    const res = await post(event);
    expect(res.status).toBe(200);
    expect(await value('orchestration_events_processed_total', { function: 'decompose', result: 'applied' })).toBe(1);
    expect(await value('orchestration_task_decomposition_duration_count')).toBe(1);
    expect(await value('orchestration_message_latency_count')).toBe(1);
  });

  it('counts an event it can never process as dead-lettered (Knative sends it to the sink on 400)', async () => {
    const res = await post({ specversion: '1.0', id: 'bad', source: 'test', type: 'task.submitted', time: new Date().toISOString(), data: { nope: true } });
    expect(res.status).toBe(400);
    // The body is the reason Knative hands its dead-letter sink (knativeerrordata).
    expect(await res.json()).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringMatching(/data\.workflowId/) });
    expect(await value('orchestration_events_processed_total', { function: 'decompose', result: 'dead_lettered' })).toBe(1);
    expect(await value('orchestration_dead_letters_total', { topic: topics.tasks })).toBe(1);
  });
});
