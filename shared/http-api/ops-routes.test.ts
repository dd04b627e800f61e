import type { Server } from 'node:http';
import express from 'express';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { neo4jHealthCheck } from '../adapters/neo4j/health.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { defaultConfig } from '../config.js';
import { topics } from '../events/index.js';
import { silentLogger } from '../observability/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';
import { createOpsRoutes, type OpsOptions } from './ops-routes.js';

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** A runtime with 12 task events nobody consumed yet (backlog critical at 10), and no consumer of its own. */
async function backloggedRuntime(): Promise<Runtime> {
  const bus = createMemoryEventBus();
  const store = createSqlWorkflowStore(await createPgliteClient());
  const config = defaultConfig({ ORCHESTRATION_MESSAGE_BACKLOG_WARNING: 5, ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL: 10 });
  const runtime = await startRuntime({
    config,
    adapters: { bus, store, leases: createMemoryLeaseStore(systemClock), directory: createMemoryAgentDirectory({ maxTasksPerAgent: 3 }) },
    logger: silentLogger,
    functions: [],
    recovery: false,
    messaging: false,
  });
  await bus.publish(
    topics.tasks,
    Array.from({ length: 12 }, (_, i) => ({
      key: `k${i}`,
      event: { specversion: '1.0' as const, id: `e${i}`, source: 'test', type: 'task.submitted', time: new Date().toISOString(), data: {} },
    })),
  );
  return runtime;
}

async function serve(runtime: Runtime, options: OpsOptions): Promise<{ ready(): Promise<{ status: number; body: Readiness }>; close(): Promise<void> }> {
  const app = express().use(createOpsRoutes(runtime, options));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ready/orchestration`;
  return {
    async ready() {
      const res = await fetch(url);
      return { status: res.status, body: (await res.json()) as Readiness };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('readiness', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await backloggedRuntime();
  }, 30_000);
  afterAll(async () => runtime?.stop());

  it('turns red on a critical backlog for the API', async () => {
    const api = await serve(runtime, {});
    const { status, body } = await api.ready();
    await api.close();
    expect(status).toBe(503);
    expect(body.checks.eventBus).toEqual({ ok: false, detail: 'backlog 12 at or above ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL' });
  });

  it('stays ready for a function consumer, which must stay up to drain that backlog', async () => {
    const consumer = await serve(runtime, { functions: ['decompose'], backlogGatesReadiness: false });
    const { status, body } = await consumer.ready();
    await consumer.close();
    expect(status).toBe(200);
    expect(body.checks.eventBus).toMatchObject({ ok: true, detail: expect.stringContaining('backlog 12 at or above') });
  });

  it('reports Neo4j when the directory is on it, and is not ready while Neo4j does not answer', async () => {
    // Nothing listens on port 1: the driver's connection is refused.
    const driver = neo4j.driver('bolt://127.0.0.1:1', undefined, { connectionTimeout: 500, maxConnectionPoolSize: 1 });
    runtime.healthChecks.push(neo4jHealthCheck(driver));
    try {
      const consumer = await serve(runtime, { functions: ['decompose'], backlogGatesReadiness: false });
      const { status, body } = await consumer.ready();
      await consumer.close();
      expect(status).toBe(503);
      expect(body.checks.neo4j).toMatchObject({ ok: false, detail: expect.stringMatching(/^circuit disabled: .+/) });
    } finally {
      runtime.healthChecks.pop();
      await driver.close();
    }
  });
});
