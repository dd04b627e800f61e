import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HierarchyStatus } from '../../shared/ports/index.js';
import { startEmbedded, type Embedded, type InvalidBody, type WorkflowBody } from './helpers/embedded.js';

interface Accepted {
  workflowId: string;
  status: string;
  created: boolean;
}
interface Listing {
  workflows: { workflowId: string; status: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the API (not the store) until the workflow reaches `status`. */
async function until(e: Embedded, id: string, status: string, timeoutMs = 20_000): Promise<WorkflowBody> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { status: code, body } = await e.get<WorkflowBody>(`/v1/workflows/${id}`);
    expect(code).toBe(200);
    if (body.status === status) return body;
    if (Date.now() > end) throw new Error(`workflow ${id} is ${body.status}, expected ${status}`);
    await sleep(25);
  }
}

const issuePaths = (body: InvalidBody): string[] => body.issues.map((issue) => issue.path);

describe('HTTP API over the embedded runtime', () => {
  let api: Embedded;
  let doneId: string;

  beforeAll(async () => {
    api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '10' });
  }, 60_000);
  afterAll(async () => api?.stop());

  it('accepts a task with 202 and runs it to completion', async () => {
    const { status, body } = await api.post<Accepted>('/v1/tasks', { description: 'Research AI market trends and create presentation', priority: 'high' });
    expect(status).toBe(202);
    expect(body).toMatchObject({ workflowId: expect.stringMatching(/^wf_/), status: 'pending', created: true });
    doneId = body.workflowId;
    const view = await until(api, doneId, 'completed');
    expect(view.priority).toBe('HIGH');
    expect(view.subtasks.length).toBeGreaterThan(1);
    expect(view.progress).toMatchObject({ total: view.subtasks.length, completed: view.subtasks.length, percent: 100 });
    for (const subtask of view.subtasks) {
      expect(subtask).toMatchObject({
        id: expect.any(String),
        specialty: expect.any(String),
        status: 'completed',
        assignedAgent: expect.stringMatching(/^demo-/),
        attempts: 1,
      });
      expect(Array.isArray(subtask.dependsOn)).toBe(true);
    }
    expect(view.subtasks.some((s) => s.dependsOn.length > 0)).toBe(true);
  });

  it('returns the same workflow for a repeated idempotencyKey', async () => {
    const task = { description: 'Write technical documentation', idempotencyKey: `key-${Date.now()}` };
    const first = await api.post<Accepted>('/v1/tasks', task);
    const second = await api.post<Accepted>('/v1/tasks', task);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ workflowId: first.body.workflowId, created: false });
    await until(api, first.body.workflowId, 'completed');
  });

  it('lists workflows and filters them by status', async () => {
    const all = await api.get<Listing>('/v1/workflows');
    expect(all.status).toBe(200);
    expect(all.body.workflows.map((w) => w.workflowId)).toContain(doneId);
    const completed = await api.get<Listing>('/v1/workflows?status=completed&limit=500');
    expect(completed.body.workflows.length).toBeGreaterThan(0);
    expect(completed.body.workflows.every((w) => w.status === 'completed')).toBe(true);
    const running = await api.get<Listing>('/v1/workflows?status=running');
    expect(running.body.workflows.map((w) => w.workflowId)).not.toContain(doneId);
    expect((await api.get<Listing>('/v1/workflows?limit=1')).body.workflows).toHaveLength(1);
  });

  it.each([
    ['missing description', {}, 'description'],
    ['empty description', { description: '   ' }, 'description'],
    ['description too long', { description: 'x'.repeat(10_001) }, 'description'],
    ['numeric priority', { description: 'ok', priority: 7 }, 'priority'],
    ['string metadata', { description: 'ok', metadata: 'x' }, 'metadata'],
    ['unknown field', { description: 'ok', colour: 'blue' }, ''],
  ])('refuses a task with %s (400 naming the path)', async (_name, body, path) => {
    const response = await api.post<InvalidBody>('/v1/tasks', body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(issuePaths(response.body)).toContain(path);
    if (path === '') expect(JSON.stringify(response.body.issues)).toContain('colour');
  });

  it('refuses malformed JSON and a bad limit with 400', async () => {
    const malformed = await api.post<InvalidBody>('/v1/tasks', '{"description": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('invalid_request');
    for (const query of ['limit=abc', 'limit=0', 'limit=501', 'status=done']) {
      const response = await api.get<InvalidBody>(`/v1/workflows?${query}`);
      expect(response.status, query).toBe(400);
      expect(issuePaths(response.body)).toContain(query.split('=')[0]);
    }
  });

  it('answers 404 for an unknown workflow and an unknown route', async () => {
    expect((await api.get('/v1/workflows/wf_nope')).status).toBe(404);
    expect((await api.post('/v1/workflows/wf_nope/pause')).status).toBe(404);
    expect((await api.get('/v1/nothing-here')).status).toBe(404);
  });

  it('serves health, readiness, the hierarchy and the seven seed metrics', async () => {
    expect(await api.get('/health/orchestration')).toMatchObject({ status: 200, body: { status: 'healthy' } });
    expect(await api.get('/ready/orchestration')).toMatchObject({ status: 200, body: { status: 'ready' } });
    const hierarchy = await api.get<HierarchyStatus>('/v1/hierarchy');
    expect(Object.keys(hierarchy.body.layers).sort()).toEqual(['EXECUTION', 'EXECUTIVE', 'MANAGEMENT', 'SPECIALIST']);
    for (const layer of Object.values(hierarchy.body.layers)) expect(layer.count).toBeGreaterThan(0);

    const { status, body: text } = await api.get<string>('/metrics');
    expect(status).toBe(200);
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `) || l.startsWith(`${series}{`));
      if (!line) throw new Error(`no ${series} in /metrics`);
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    for (const name of ['orchestration_active_workflows', 'orchestration_active_agents', 'orchestration_message_queue_depth']) value(name);
    for (const name of ['orchestration_failure_recovery_duration']) value(`${name}_count`);
    expect(value('orchestration_active_agents')).toBeGreaterThan(0);
    expect(value('orchestration_task_decomposition_duration_count')).toBeGreaterThan(0);
    expect(value('orchestration_agent_assignment_duration_count')).toBeGreaterThan(0);
    expect(value('orchestration_message_latency_count')).toBeGreaterThan(0);
    expect(value('orchestration_task_decomposition_duration_sum')).toBeGreaterThan(0);
  });
});

describe('workflow control over HTTP', () => {
  let slow: Embedded;
  beforeAll(async () => {
    slow = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '400' });
  }, 60_000);
  afterAll(async () => slow?.stop());

  const dispatchedFor = (id: string) =>
    slow.bus.exportLog().filter((r) => r.topic === 'amas.subtasks.dispatched' && (r.value as { data: { workflowId: string } }).data.workflowId === id).length;

  it('pauses (nothing new dispatched), refuses a second resume with 409, resumes and completes', async () => {
    const { body } = await slow.post<Accepted>('/v1/tasks', { description: 'Build a REST API for customer orders with tests' });
    const id = body.workflowId;
    await until(slow, id, 'running');
    while (dispatchedFor(id) === 0) await sleep(10);
    const paused = await slow.post<WorkflowBody>(`/v1/workflows/${id}/pause`);
    expect(paused).toMatchObject({ status: 200, body: { status: 'paused' } });
    const dispatchedAtPause = dispatchedFor(id);
    await sleep(1_000); // long enough for the work in flight to finish and its dependents to become ready
    expect(dispatchedFor(id)).toBe(dispatchedAtPause);
    const view = (await slow.get<WorkflowBody>(`/v1/workflows/${id}`)).body;
    expect(view.status).toBe('paused');
    expect(view.progress.inProgress).toBe(0);
    expect(view.progress.completed).toBeLessThan(view.progress.total);

    expect((await slow.post<WorkflowBody>(`/v1/workflows/${id}/resume`)).body.status).toBe('running');
    const again = await slow.post(`/v1/workflows/${id}/resume`);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('invalid_transition');
    const done = await until(slow, id, 'completed');
    expect(done.subtasks.every((s) => s.status === 'completed')).toBe(true);
    expect(dispatchedFor(id)).toBeGreaterThan(dispatchedAtPause);
  });

  it('cancels a running workflow and refuses to cancel it twice', async () => {
    const { body } = await slow.post<Accepted>('/v1/tasks', { description: 'Analyse churn data and write a report' });
    const id = body.workflowId;
    await until(slow, id, 'running');
    const cancelled = await slow.post<WorkflowBody>(`/v1/workflows/${id}/cancel`, { reason: 'changed my mind' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', failureReason: 'changed my mind' });
    expect(cancelled.body.subtasks.every((s) => s.status === 'cancelled' || s.status === 'completed')).toBe(true);
    await sleep(600); // a late result of the cancelled work changes nothing
    expect((await slow.get(`/v1/workflows/${id}`)).body.status).toBe('cancelled');
    expect((await slow.post(`/v1/workflows/${id}/cancel`)).status).toBe(409);
  });
});
