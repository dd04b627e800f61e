import { spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../../shared/adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../../shared/adapters/memory/lease-store.memory.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { loadConfig } from '../../shared/config.js';
import type { WorkflowStore } from '../../shared/ports/index.js';
import { makeEvent, taskSubmitted } from '../../shared/events/index.js';
import { createApiApp } from '../../shared/http-api/app.js';
import { requestLog } from '../../shared/http-api/request-log.js';
import { createLogger, type LogLevel } from '../../shared/observability/logger.js';
import { processEvent } from '../../shared/engine/process-event.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';

type Line = Record<string, unknown> & { level: string; time: string; logger: string; message: string };

const capture = (level: LogLevel = 'INFO') => {
  const lines: Line[] = [];
  const logger = createLogger(level, 'test', (line) => lines.push(JSON.parse(line) as Line));
  return { lines, logger };
};

describe('createLogger (pino)', () => {
  it('writes one JSON object per line with time, level, logger and message, at or above its level', () => {
    const raw: string[] = [];
    const logger = createLogger('INFO', 'amas-test', (line) => raw.push(line));
    logger.debug('hidden', { a: 1 });
    logger.info('shown', { workflowId: 'wf_1', n: 2 });
    logger.warn('careful');
    logger.error('broken', { code: 'X' });
    expect(raw).toHaveLength(3);
    expect(raw.every((line) => !line.includes('\n'))).toBe(true);
    const [info, warn, error] = raw.map((line) => JSON.parse(line) as Line);
    expect(info).toMatchObject({ level: 'INFO', logger: 'amas-test', message: 'shown', workflowId: 'wf_1', n: 2 });
    expect(new Date(info!.time).toISOString()).toBe(info!.time);
    expect(warn).toMatchObject({ level: 'WARNING', message: 'careful' });
    expect(error).toMatchObject({ level: 'ERROR', message: 'broken', code: 'X' });
  });

  it.each([
    ['DEBUG', ['DEBUG', 'INFO', 'WARNING', 'ERROR']],
    ['WARNING', ['WARNING', 'ERROR']],
    ['ERROR', ['ERROR']],
  ] as const)('keeps the ORCHESTRATION_LOG_LEVEL names: %s', (level, shown) => {
    const { lines, logger } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => l.level)).toEqual(shown);
  });

  it('writes to stderr and leaves stdout alone', () => {
    const script = "import { createLogger } from './shared/observability/logger.ts'; createLogger('INFO', 'cli').info('hello', { k: 1 });";
    const run = spawnSync(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: process.cwd(),
      timeout: 20_000,
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(JSON.parse(run.stderr.trim())).toMatchObject({ level: 'INFO', logger: 'cli', message: 'hello', k: 1 });
  });
});

describe('state change and request logs over the embedded runtime', () => {
  const { lines, logger } = capture('INFO');
  let runtime: Runtime;
  let store: WorkflowStore;
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    const config = loadConfig({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '10', ORCHESTRATION_PLAN_APPROVAL: 'off' });
    const bus = createMemoryEventBus({ partitions: 6, retryDelayMs: 10 });
    store = createSqlWorkflowStore(await createPgliteClient());
    const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
    runtime = await startRuntime({
      config,
      adapters: { bus, store, leases: createMemoryLeaseStore(systemClock), directory },
      logger,
      demoAgents: true,
      relayIntervalMs: 50,
    });
    server = await new Promise((resolve) => {
      const listening = createApiApp(runtime).listen(0, '127.0.0.1', () => resolve(listening));
    });
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await runtime?.stop();
    await store?.close();
  });

  const changes = (workflowId: string) =>
    lines.filter((l) => (l.message === 'workflow changed' || l.message === 'subtask changed') && l.workflowId === workflowId);
  const settle = async (workflowId: string) => {
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
      if (changes(workflowId).some((l) => l.message === 'workflow changed' && l.status === 'completed')) return;
    }
    throw new Error(`workflow ${workflowId} did not complete`);
  };

  it('logs every workflow and subtask state change once, at INFO, with workflowId, subtaskId, agentId and attempt', async () => {
    const submitted = await fetch(`${baseUrl}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'Research AI market trends and create presentation' }),
    });
    const { workflowId } = (await submitted.json()) as { workflowId: string };
    await settle(workflowId);
    const logged = changes(workflowId);
    for (const line of logged) {
      expect(line.level).toBe('INFO');
      for (const key of ['workflowId', 'subtaskId', 'agentId', 'attempt', 'status', 'previousStatus', 'quality', 'error'])
        expect(line, key).toHaveProperty(key);
    }
    const workflowStatuses = logged.filter((l) => l.message === 'workflow changed').map((l) => [l.previousStatus, l.status]);
    expect(workflowStatuses[0]).toEqual([null, 'pending']);
    expect(workflowStatuses.at(-1)?.[1]).toBe('completed');
    // Each line moves on from where the previous one left the workflow.
    for (let i = 1; i < workflowStatuses.length; i += 1) expect(workflowStatuses[i]![0]).toBe(workflowStatuses[i - 1]![1]);

    const subtasks = await store.getSubtasks(workflowId);
    for (const subtask of subtasks) {
      const mine = logged.filter((l) => l.subtaskId === subtask.id);
      expect(mine[0]).toMatchObject({ previousStatus: null, agentId: null, attempt: 0 });
      const completed = mine.filter((l) => l.status === 'completed');
      expect(completed, subtask.id).toHaveLength(1);
      expect(completed[0]).toMatchObject({ previousStatus: 'in_progress', agentId: subtask.assignedAgent, attempt: 1, quality: subtask.quality });
      expect(mine.some((l) => l.status === 'in_progress' && l.agentId === subtask.assignedAgent && l.attempt === 1)).toBe(true);
      for (let i = 1; i < mine.length; i += 1) expect(mine[i]!.previousStatus, `${subtask.id} line ${i}`).toBe(mine[i - 1]!.status);
    }
  });

  it('logs a command with the status it moved from, and a redelivered commit not at all', async () => {
    const workflowId = 'wf_logged_dup';
    await store.createWorkflow(
      {
        id: workflowId,
        description: 'Write technical documentation',
        priority: 'NORMAL',
        metadata: {},
        idempotencyKey: null,
        createdAt: new Date().toISOString(),
      },
      [],
    );
    const event = makeEvent(
      taskSubmitted,
      { workflowId, description: 'Write technical documentation', priority: 'NORMAL', metadata: {}, requireApproval: false },
      { ids: runtime.ports.ids, clock: runtime.ports.clock, source: 'test' },
    );
    // Paused before it is decomposed: decompose plans it and leaves it paused; the function consumers never see the event.
    await fetch(`${baseUrl}/v1/workflows/${workflowId}/pause`, { method: 'POST' });
    expect(changes(workflowId)).toEqual([
      expect.objectContaining({ message: 'workflow changed', status: 'paused', previousStatus: 'pending', consumer: 'control' }),
    ]);
    expect((await processEvent('decompose', event, runtime.ports, { logger })).status).not.toBe('duplicate');
    const afterFirst = changes(workflowId).length;
    expect(afterFirst).toBeGreaterThan(1);
    expect(await processEvent('decompose', event, runtime.ports, { logger })).toMatchObject({ status: 'duplicate' });
    expect(changes(workflowId)).toHaveLength(afterFirst);
  });

  it('logs each request with method, path, status and ms, and probes only at DEBUG', async () => {
    await fetch(`${baseUrl}/v1/workflows?limit=2`);
    await fetch(`${baseUrl}/v1/workflows/wf_unknown`);
    await fetch(`${baseUrl}/health/orchestration`);
    await fetch(`${baseUrl}/metrics`);
    const requests = () => lines.filter((l) => l.message === 'request');
    for (const until = Date.now() + 2_000; requests().length < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
    const logged = requests().filter((l) => l.method === 'GET');
    expect(logged).toContainEqual(expect.objectContaining({ level: 'INFO', method: 'GET', path: '/v1/workflows', status: 200, ms: expect.any(Number) }));
    expect(logged).toContainEqual(expect.objectContaining({ path: '/v1/workflows/wf_unknown', status: 404 }));
    expect(logged.some((l) => String(l.path).startsWith('/health') || l.path === '/metrics')).toBe(false);

    const debug = capture('DEBUG');
    const probes = express()
      .use(requestLog(debug.logger))
      .get('/health/orchestration', (_req, res) => void res.json({ ok: true }));
    const probeServer: Server = await new Promise((resolve) => {
      const s = probes.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (probeServer.address() as { port: number }).port;
    await fetch(`http://127.0.0.1:${port}/health/orchestration`);
    await new Promise((resolve) => probeServer.close(resolve));
    expect(debug.lines).toContainEqual(expect.objectContaining({ level: 'DEBUG', message: 'request', path: '/health/orchestration', status: 200 }));
  });
});
