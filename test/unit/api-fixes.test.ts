import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type Answer, type Embedded, type WorkflowBody } from './helpers/embedded.js';

interface Accepted {
  workflowId: string;
  status: string;
  created: boolean;
}
interface Listing {
  workflows: { workflowId: string; status: string }[];
  total: number;
  limit: number;
  offset: number;
}

/** Issue 11, item 6: command keys scoped per workflow, submit keys bound to their body, `total`, cancelled workflows counted. */
describe('API fixes of issue 11', () => {
  let api: Embedded;
  // Slow agents: a workflow is still running when it is cancelled.
  beforeAll(async () => {
    api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '400' });
  }, 60_000);
  afterAll(async () => api?.stop());

  const submit = async (description: string) => (await api.post<Accepted>('/v1/tasks', { description })).body.workflowId;
  const command = async (id: string, name: string, key?: string) => {
    const response = await fetch(`${api.baseUrl}/v1/workflows/${id}/${name}`, { method: 'POST', headers: key === undefined ? {} : { 'Idempotency-Key': key } });
    return { status: response.status, body: (await response.json()) as WorkflowBody & Answer };
  };
  const finished = async (status: string) => {
    const text = (await api.get<string>('/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith(`orchestration_workflows_finished_total{status="${status}"}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  it('scopes an Idempotency-Key to its workflow: the same key cancels two workflows, and repeats the first answer on one', async () => {
    const first = await submit('Analyse churn data and write a report');
    const second = await submit('Write technical documentation');
    const key = `cancel-${Date.now()}`;
    expect(await command(first, 'cancel', key)).toMatchObject({ status: 200, body: { workflowId: first, status: 'cancelled' } });
    expect(await command(second, 'cancel', key)).toMatchObject({ status: 200, body: { workflowId: second, status: 'cancelled' } });
    // A retry of a command that was applied answers like the first call (200), where a new cancel would be refused (409).
    expect(await command(first, 'cancel', key)).toMatchObject({ status: 200, body: { workflowId: first, status: 'cancelled' } });
    expect((await command(first, 'cancel')).status).toBe(409);
  });

  it('answers 409 to a repeated submit idempotencyKey with another body, and the original workflow to the same body', async () => {
    const idempotencyKey = `submit-${Date.now()}`;
    const task = { description: 'Build a REST API for customer orders', priority: 'high', metadata: { team: 'orders', tags: ['a', 'b'] }, idempotencyKey };
    const first = await api.post<Accepted>('/v1/tasks', task);
    expect(first.status).toBe(202);
    // The same submission, spelled differently: priority case and metadata key order do not matter.
    const again = await api.post<Accepted>('/v1/tasks', { ...task, priority: 'HIGH', metadata: { tags: ['a', 'b'], team: 'orders' } });
    expect(again).toMatchObject({ status: 200, body: { workflowId: first.body.workflowId, created: false } });
    const variants: [string, Record<string, unknown>][] = [
      ['description', { description: 'Build a GraphQL API for customer orders' }],
      ['priority', { priority: 'low' }],
      ['metadata', { metadata: { team: 'billing', tags: ['a', 'b'] } }],
      ['requireApproval', { requireApproval: true }],
    ];
    for (const [field, change] of variants) {
      const conflict = await api.post('/v1/tasks', { ...task, ...change });
      expect(conflict.status, field).toBe(409);
      expect(conflict.body, field).toMatchObject({ error: 'idempotency_conflict', workflowId: first.body.workflowId });
      expect(String(conflict.body.message), field).toContain(field);
    }
    const listed = (await api.get<Listing>('/v1/workflows?limit=500')).body.workflows.filter((w) => w.workflowId === first.body.workflowId);
    expect(listed).toHaveLength(1);
    await command(first.body.workflowId, 'cancel');
  });

  it('answers total: every workflow the status filter matches, whatever the page', async () => {
    for (let i = 0; i < 3; i += 1) await submit(`Summarise quarterly report ${i}`);
    const everything = (await api.get<Listing>('/v1/workflows?limit=500')).body;
    expect(everything.total).toBe(everything.workflows.length);
    expect(everything.total).toBeGreaterThanOrEqual(3);
    const page = (await api.get<Listing>('/v1/workflows?limit=1&offset=1')).body;
    expect(page).toMatchObject({ total: everything.total, limit: 1, offset: 1 });
    expect(page.workflows).toHaveLength(1);
    const cancelled = (await api.get<Listing>('/v1/workflows?status=cancelled&limit=1')).body;
    expect(cancelled.total).toBe(everything.workflows.filter((w) => w.status === 'cancelled').length);
    expect(cancelled.total).toBeGreaterThanOrEqual(2);
    expect(cancelled.total).toBeLessThan(everything.total);
  });

  it('counts a cancelled workflow in orchestration_workflows_finished_total once', async () => {
    const before = await finished('cancelled');
    const id = await submit('Research AI market trends');
    const key = `metric-${Date.now()}`;
    expect((await command(id, 'cancel', key)).status).toBe(200);
    expect(await finished('cancelled')).toBe(before + 1);
    expect((await command(id, 'cancel', key)).status).toBe(200);
    expect(await finished('cancelled')).toBe(before + 1);
  });
});
