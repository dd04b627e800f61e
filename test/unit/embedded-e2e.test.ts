import { describe, expect, it } from 'vitest';
import type { Subtask } from '../../shared/domain/workflow.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

const descriptions = [
  'Research AI market trends and create presentation',
  'Build a REST API for customer orders with tests',
  'Analyse churn data and write a report',
  'Design a marketing campaign for a product launch',
  'Write technical documentation for the payment service',
  'Fix the login bug',
  'Plan a data migration to the new warehouse, test it and document the rollback',
];

interface Logged {
  type: string;
  id: string;
  data: { workflowId: string; subtaskId?: string; attempt?: number };
}

/** Submits `count` workflows at once over HTTP and waits for every one to finish. */
async function runMany(e: Embedded, count: number): Promise<{ ids: string[]; subtasks: Subtask[] }> {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => e.post('/v1/tasks', { description: `${descriptions[i % descriptions.length]} #${i}` })),
  );
  for (const response of responses) expect(response.status).toBe(202);
  const ids = responses.map((r) => r.body.workflowId as string);
  const finished = await Promise.all(ids.map((id) => e.settle(id, 90_000)));
  expect(finished.map((w) => w.status)).toEqual(ids.map(() => 'completed'));
  await e.quiesce();
  const subtasks = (await Promise.all(ids.map((id) => e.runtime.ports.store.getSubtasks(id)))).flat();
  return { ids, subtasks };
}

/** Nothing lost, nothing doubled: the bus log agrees with the final state, and nothing was dead-lettered. */
function expectExactlyOnce(e: Embedded, ids: string[], subtasks: Subtask[]): void {
  const log = e.bus.exportLog();
  const events = new Map<string, Logged>();
  for (const record of log) {
    const event = record.value as Logged;
    if (event.data?.workflowId && ids.includes(event.data.workflowId)) events.set(event.id, event); // distinct ids: a redelivery is one event
  }
  const count = (type: string, subtaskId: string, attempt: number) =>
    [...events.values()].filter((ev) => ev.type === type && ev.data.subtaskId === subtaskId && ev.data.attempt === attempt).length;

  expect(subtasks.length).toBeGreaterThanOrEqual(ids.length * 2);
  for (const subtask of subtasks) {
    expect(subtask.status, subtask.id).toBe('completed');
    expect(subtask.quality).toBeGreaterThanOrEqual(e.config.ORCHESTRATION_QUALITY_THRESHOLD);
    for (let attempt = 1; attempt <= subtask.attempts; attempt++) {
      expect(count('subtask.dispatched', subtask.id, attempt), `${subtask.id} dispatches of attempt ${attempt}`).toBe(1);
      expect(count('subtask.completed', subtask.id, attempt), `${subtask.id} results of attempt ${attempt}`).toBe(1);
    }
    expect(count('subtask.dispatched', subtask.id, subtask.attempts + 1)).toBe(0);
  }
  for (const id of ids) {
    expect([...events.values()].filter((ev) => ev.type === 'workflow.completed' && ev.data.workflowId === id)).toHaveLength(1);
  }
  const deadLetters = e.bus.topicsSnapshot().filter((t) => t.topic.endsWith('.dlq'));
  expect(deadLetters.flatMap((t) => t.partitions).reduce((sum, p) => sum + p.endOffset, 0)).toBe(0);
}

describe('embedded runtime end to end', () => {
  it('runs 50 concurrent workflows to completion, every subtask completed exactly once', async () => {
    const e = await startEmbedded({ ORCHESTRATION_MAX_WORKFLOWS: '500', ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
    try {
      const started = Date.now();
      const { ids, subtasks } = await runMany(e, 50);
      expect(Date.now() - started).toBeLessThan(90_000);
      expectExactlyOnce(e, ids, subtasks);
      expect((await e.runtime.ports.store.pendingOutbox(1)).length).toBe(0);
      expect(await e.runtime.ports.store.countActiveWorkflows()).toBe(0);
    } finally {
      await e.stop();
    }
  }, 120_000);

  it('retries low-quality results on other attempts and still completes everything', async () => {
    const e = await startEmbedded({ ORCHESTRATION_MAX_WORKFLOWS: '500', ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5', ORCHESTRATION_DEMO_LOW_QUALITY_RATE: '0.3' });
    try {
      const { ids, subtasks } = await runMany(e, 20);
      expectExactlyOnce(e, ids, subtasks);
      const retried = subtasks.filter((s) => s.attempts > 1);
      expect(retried.length).toBeGreaterThan(0);
      expect(retried.every((s) => s.attempts === 2)).toBe(true); // the demo lowers first attempts only
      expect((await e.runtime.ports.store.pendingOutbox(1)).length).toBe(0);
    } finally {
      await e.stop();
    }
  }, 120_000);
});
