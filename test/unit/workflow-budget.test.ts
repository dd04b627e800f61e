import { describe, expect, it } from 'vitest';
import { leaseKeyOf } from '../../shared/domain/protocol.js';
import type { ModelUsage } from '../../shared/domain/usage.js';
import type { EventOf } from '../../shared/events/index.js';
import type { PlanRequest, Planner } from '../../shared/ports/index.js';
import { createHarness, fixedPlanner, type StepSpec } from './helpers/fixture.js';

const usage = (costUsd: number, inputTokens = 1_000, outputTokens = 200): ModelUsage => ({ inputTokens, outputTokens, costUsd });
const pair: StepSpec[] = [
  { key: 'a', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'b', specialty: 'statistical_modeler', phase: 'analysis' },
  { key: 'c', specialty: 'content_writer_editor', phase: 'production', deps: ['a', 'b'] },
];

/** The fixed plan, as if a model had written it for `spent`; every request is kept. */
function llmLike(spent: ModelUsage | null, seen: PlanRequest[] = []): Planner {
  const inner = fixedPlanner(pair);
  return {
    async plan(request) {
      seen.push(request);
      const plan = await inner.plan(request);
      return spent ? { ...plan, provenance: { planner: 'llm', model: 'm', repaired: false, usage: spent } } : plan;
    },
  };
}
const withUsage = <E extends EventOf<'subtask.completed'> | EventOf<'subtask.failed'>>(event: E, spent: ModelUsage): E => ({
  ...event,
  data: { ...event.data, usage: spent },
});

describe('workflow budget: decompose', () => {
  it("adds the planner's usage to the workflow in the commit that stores the plan, and hands the planner its time and budget", async () => {
    const seen: PlanRequest[] = [];
    const h = await createHarness({
      planner: llmLike(usage(0.004), seen),
      config: { ORCHESTRATION_WORKFLOW_BUDGET_USD: 0.01, ORCHESTRATION_DECOMPOSITION_TIMEOUT: 30 },
    });
    const { workflowId } = await h.start('analyse and write');
    expect(await h.workflow(workflowId)).toMatchObject({
      status: 'running',
      version: 2,
      usage: usage(0.004),
      plan: { provenance: { planner: 'llm', usage: usage(0.004) } },
    });
    expect(seen[0]).toMatchObject({ workflowId, maxSubtasks: h.config.ORCHESTRATION_MAX_SUBTASKS, timeoutMs: 30_000, budgetUsd: 0.01 });
    expect(seen[0]?.signal?.aborted).toBe(false);
  });

  it('fails the workflow cleanly when planning alone spent more than the budget: plan and usage kept, nothing to run', async () => {
    const h = await createHarness({ planner: llmLike(usage(0.02)), config: { ORCHESTRATION_WORKFLOW_BUDGET_USD: 0.01 } });
    const { workflowId } = await h.start('analyse and write');
    const workflow = await h.workflow(workflowId);
    expect(workflow).toMatchObject({ status: 'failed', failureReason: 'budget exceeded: $0.02 of $0.01', usage: usage(0.02), completedAt: expect.any(String) });
    expect(workflow.plan?.subtasks).toHaveLength(3);
    expect(await h.subtasks(workflowId)).toEqual([]);
    expect((await h.outbox()).map((e) => [e.type, e.data])).toEqual([['workflow.failed', { workflowId, reason: 'budget exceeded: $0.02 of $0.01' }]]);
  });

  it('does not call the planner for a workflow whose budget is spent', async () => {
    const seen: PlanRequest[] = [];
    const h = await createHarness({ planner: llmLike(usage(0.001), seen), config: { ORCHESTRATION_WORKFLOW_BUDGET_USD: 0.01 } });
    const submitted = await h.submit('analyse and write');
    const { workflowId } = submitted.data;
    await h.store.commit({ consumer: 'test', eventId: 'spent', workflowUpdates: [{ id: workflowId, expectedVersion: 1, patch: { usage: usage(0.01) } }] });
    await h.run('decompose', submitted);
    expect(seen).toEqual([]);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'failed', failureReason: 'budget exceeded: $0.01 of $0.01', plan: null });
  });

  it('aborts the planner at ORCHESTRATION_DECOMPOSITION_TIMEOUT', async () => {
    const seen: PlanRequest[] = [];
    const stuck: Planner = { plan: (request) => (seen.push(request), new Promise(() => undefined)) };
    const h = await createHarness({ planner: stuck, config: { ORCHESTRATION_DECOMPOSITION_TIMEOUT: 0.05 } });
    const { workflowId } = await h.start('analyse and write');
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'failed', failureReason: 'decomposition failed: decomposition took longer than 0.05s' });
    expect(seen[0]).toMatchObject({ timeoutMs: 50 });
    expect(seen[0]?.budgetUsd).toBeUndefined();
    expect(seen[0]?.signal?.aborted).toBe(true);
  });
});

describe('workflow budget: complete', () => {
  async function running(budget: number) {
    const h = await createHarness({ planner: llmLike(usage(0.001, 500, 100)), config: { ORCHESTRATION_WORKFLOW_BUDGET_USD: budget } });
    await h.agent('analyst', 'data_analyst');
    await h.agent('modeler', 'statistical_modeler');
    await h.agent('writer', 'content_writer_editor');
    const { workflowId } = await h.start('analyse and write');
    const dispatched = await h.pump();
    const of = (key: string) => dispatched.find((d) => d.data.subtaskId === `${workflowId}.${key}`)!;
    return { h, workflowId, of, id: (key: string) => `${workflowId}.${key}` };
  }

  it("adds every result's usage, failed or stale ones too", async () => {
    const { h, workflowId, of } = await running(0);
    await h.run('complete', withUsage(h.completed(of('a'), 0.95), usage(0.002)));
    await h.run('complete', withUsage(h.failed(of('b'), 'agent_error', 'model refused'), usage(0.003, 800, 0)));
    // The same attempt again: stale, but what it reports was spent.
    const stale = await h.run('complete', { ...withUsage(h.completed(of('a'), 0.9), usage(0.004)), id: 'late-duplicate-of-a' });
    expect(stale.status).toBe('skipped');
    expect((await h.workflow(workflowId)).usage).toEqual({ inputTokens: 3_300, outputTokens: 500, costUsd: expect.closeTo(0.01, 9) as number });
    expect((await h.workflow(workflowId)).status).toBe('running');
  });

  it('fails the workflow cleanly past the budget: this result kept, open subtasks cancelled, leases and slots released', async () => {
    const { h, workflowId, of, id } = await running(0.01);
    await h.take();
    const result = await h.run('complete', withUsage(h.completed(of('a'), 0.95, { table: 1 }), usage(0.0095)));
    expect(result.status).toBe('applied');

    const workflow = await h.workflow(workflowId);
    expect(workflow).toMatchObject({
      status: 'failed',
      failureReason: 'budget exceeded: $0.0105 of $0.01',
      usage: { costUsd: expect.closeTo(0.0105, 9) as number },
    });
    expect((await h.subtasks(workflowId)).map((s) => [s.id, s.status])).toEqual([
      [id('a'), 'completed'],
      [id('b'), 'cancelled'],
      [id('c'), 'cancelled'],
    ]);
    expect(await h.subtask(id('a'))).toMatchObject({ output: { table: 1 }, quality: 0.95 });
    expect(await h.leases.get(leaseKeyOf(id('a')))).toBeNull();
    expect(await h.leases.get(leaseKeyOf(id('b')))).toBeNull();
    for (const agent of ['analyst', 'modeler', 'writer']) expect((await h.directory.get(agent))?.load).toBe(0);
    expect((await h.take()).map((e) => e.type)).toEqual(['workflow.failed']);
  });
});
