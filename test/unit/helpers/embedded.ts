import type { Server } from 'node:http';
import { createMemoryAgentDirectory } from '../../../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../../../shared/adapters/memory/clock.system.js';
import { createMemoryEventBus, type MemoryEventBus } from '../../../shared/adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../../../shared/adapters/memory/lease-store.memory.js';
import { createPgliteClient } from '../../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../../shared/adapters/sql/workflow-store.sql.js';
import { createSqlChangeLog, createSqlDeadLetterRedrives } from '../../../shared/adapters/sql/change-log.sql.js';
import { loadConfig, type Config } from '../../../shared/config.js';
import type { Subtask, Workflow } from '../../../shared/domain/workflow.js';
import { functionSubscriptions } from '../../../shared/events/index.js';
import { createApiApp } from '../../../shared/http-api/app.js';
import type { workflowView } from '../../../shared/http-api/workflow-view.js';
import { silentLogger } from '../../../shared/observability/logger.js';
import type { LeaseStore } from '../../../shared/ports/index.js';
import { startRuntime, type Runtime } from '../../../shared/runtime/runtime.js';
import { plannerFromEnv } from '../../../shared/runtime/planner-from-env.js';

export interface Embedded {
  baseUrl: string;
  runtime: Runtime;
  bus: MemoryEventBus;
  config: Config;
  /** POST a JSON body (or a raw string) and parse the JSON answer. */
  post<T = Answer>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  get<T = Answer>(path: string): Promise<{ status: number; body: T }>;
  /** Polls until the workflow is terminal (completed, failed, cancelled) or the time runs out. */
  settle(workflowId: string, timeoutMs?: number): Promise<Workflow>;
  /** Waits until every committed event is on the bus and every function's consumer group has read it. */
  quiesce(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** An answer as the tests read it; a test names a precise type where it reads deeper. */
export type Answer = Record<string, unknown>;
/** GET /v1/workflows/:id as it arrives over the wire. */
export type WorkflowBody = ReturnType<typeof workflowView>;
/** A 400 answer. */
export interface InvalidBody {
  error: string;
  issues: { path: string; message: string; code?: string }[];
}

export const terminal = ['completed', 'failed', 'cancelled'];

/**
 * The whole embedded orchestrator as `npm start` runs it (memory bus, PGlite, memory leases and
 * directory, demo agents, the HTTP API on a free port), configured from `env` like the process is.
 */
export async function startEmbedded(
  env: Record<string, string> = {},
  apiOptions: Parameters<typeof createApiApp>[1] = {},
  dataDir?: string,
  adapters: { leases?: LeaseStore } = {},
): Promise<Embedded> {
  // Plans run as planned unless a test is about plan approval (it passes ORCHESTRATION_PLAN_APPROVAL).
  const config = loadConfig({ ORCHESTRATION_PLAN_APPROVAL: 'off', ...env });
  const bus = createMemoryEventBus({ partitions: 6, retryDelayMs: 10 });
  // With a data directory the store outlives this runtime, and the next one resumes its workflows (AMAS_DATA_DIR).
  const sql = await createPgliteClient(dataDir);
  const store = createSqlWorkflowStore(sql);
  const leases = adapters.leases ?? createMemoryLeaseStore(systemClock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  const runtime = await startRuntime({
    config,
    adapters: {
      bus,
      store,
      leases,
      directory,
      planner: plannerFromEnv(silentLogger, env).planner,
      changeLog: createSqlChangeLog(sql),
      deadLetterRedrives: createSqlDeadLetterRedrives(sql),
    },
    logger: silentLogger,
    demoAgents: true,
    relayIntervalMs: 50,
    resume: dataDir !== undefined,
  });
  const server: Server = await new Promise((resolve) => {
    const listening = createApiApp(runtime, apiOptions).listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const init: RequestInit = { method };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (body !== undefined) init.headers = { 'content-type': 'application/json' };
    const response = await fetch(`${baseUrl}${path}`, init);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // /metrics is text
    }
    return { status: response.status, body: parsed as T };
  };

  const embedded: Embedded = {
    baseUrl,
    runtime,
    bus,
    config,
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    get: <T>(path: string) => call<T>('GET', path),
    async settle(workflowId, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const workflow = await store.getWorkflow(workflowId);
        if (workflow && terminal.includes(workflow.status)) return workflow;
        if (Date.now() > until) throw new Error(`workflow ${workflowId} is still ${workflow?.status ?? 'missing'} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async quiesce(timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        await runtime.relay.drain();
        const pending = (await store.pendingOutbox(1)).length;
        let lag = 0;
        for (const { topic, groupId } of Object.values(functionSubscriptions)) lag += await bus.lag(groupId, topic);
        if (pending === 0 && lag === 0) return;
        if (Date.now() > until) throw new Error(`not quiet after ${timeoutMs} ms: ${pending} outbox rows, lag ${lag}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      // Open event streams would hold server.close() until they end: end them first.
      await runtime.changes?.stop();
      await new Promise((resolve) => server.close(resolve));
      await runtime.stop();
      await bus.close();
      await store.close();
    },
  };
  return embedded;
}

/** The comparable state of a subtask: what the orchestration decided, without wall-clock times. */
export const decided = (s: Subtask) => ({
  id: s.id,
  status: s.status,
  attempts: s.attempts,
  assignedAgent: s.assignedAgent,
  quality: s.quality,
  leaseToken: s.leaseToken,
  output: s.output,
  dependsOn: s.dependsOn,
});
