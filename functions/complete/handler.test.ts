import { describe, expect, it } from 'vitest';
import { isoTime, makeEvent, subtaskReady, taskSubmitted, type EventOf } from '../../shared/events/index.js';
import { createHarness, expectIdempotent, fixedPlanner, type Harness, type HarnessOptions, type StepSpec, uniqueId } from '../../test/unit/helpers/fixture.js';
import { leaseKeyOf, workKeyOf } from '../common/deps.js';
import { complete } from './handler.js';

type Dispatched = EventOf<'subtask.dispatched'>;

/** a, b (analysis) → c (production): c waits for both. */
const diamond: StepSpec[] = [
  { key: 'a', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'b', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'c', specialty: 'content_writer_editor', phase: 'production', deps: ['a', 'b'] },
];

async function running(steps: StepSpec[], options: HarnessOptions & { gates?: Parameters<typeof fixedPlanner>[1] } = {}) {
  const h = await createHarness({ planner: fixedPlanner(steps, options.gates), ...options });
  await h.agent('analyst-1', 'data_analyst');
  await h.agent('analyst-2', 'data_analyst');
  await h.agent('writer', 'content_writer_editor');
  const { workflowId } = await h.start('analyse and write');
  const dispatched = await h.pump();
  const of = (key: string): Dispatched => {
    const found = dispatched.find((d) => d.data.subtaskId === `${workflowId}.${key}`);
    if (!found) throw new Error(`${key} was not dispatched`);
    return found;
  };
  return { h, workflowId, dispatched, of, id: (key: string) => `${workflowId}.${key}` };
}

/** What complete decided; the row state the engine adds for assign is tested in test/unit/carried-state.test.ts. */
const readyEvents = async (h: Harness) => (await h.outbox('subtask.ready')).map(({ data: { carried: _carried, ...decided } }) => decided);

describe('complete', () => {
  it('records a passing result, releases the lease and the slot, and readies dependents only when all their dependencies are done', async () => {
    const { h, workflowId, of, id } = await running(diamond);
    const a = of('a');
    const agentA = a.data.agentId;
    const done = h.completed(a, 0.95, { answer: 42 });
    expect((await h.run('complete', done)).status).toBe('applied');
    expect(await h.subtask(id('a'))).toMatchObject({ status: 'completed', quality: 0.95, output: { answer: 42 }, lastError: null });
    expect(await h.leases.get(leaseKeyOf(id('a')))).toBeNull();
    expect(await h.directory.get(agentA)).toMatchObject({ load: 0, completed: 1 });
    expect((await h.subtask(id('c'))).status).toBe('pending');
    expect(await readyEvents(h)).toEqual([]);
    await expectIdempotent(h, 'complete', done, workflowId);

    await h.run('complete', h.completed(of('b'), 0.9));
    expect((await h.subtask(id('c'))).status).toBe('ready');
    expect(await readyEvents(h)).toEqual([{ workflowId, subtaskId: id('c'), specialty: 'content_writer_editor', attempt: 1, excludeAgents: [] }]);
    expect((await h.workflow(workflowId)).status).toBe('running');
  });

  it('returns the releases and the work record as effects for after the commit, and writes nothing itself', async () => {
    const { h, workflowId, of, id } = await running(diamond);
    const a = of('a');
    const { agentId, leaseToken } = a.data;
    const outcome = await complete(h.completed(a, 0.95), h.ports);
    const result = { success: true, quality: 0.95, durationMs: expect.any(Number) };
    expect(outcome.after).toEqual([
      { kind: 'releaseLease', key: leaseKeyOf(id('a')), token: leaseToken },
      { kind: 'releaseSlot', agentId, workKey: workKeyOf(id('a'), 1), outcome: result },
      {
        kind: 'recordWork',
        agentId,
        subtaskId: id('a'),
        workflowId,
        outcome: result,
        at: h.clock.now(),
        lineage: { attempt: 1, dependsOn: [], produced: true },
      },
    ]);
    expect(await h.leases.get(leaseKeyOf(id('a')))).toMatchObject({ token: leaseToken });
    expect(await h.directory.get(agentId)).toMatchObject({ load: 1, completed: 0 });
  });

  it('completes the workflow with workflow.completed when the last subtask passes', async () => {
    const { h, workflowId, of, id } = await running(diamond);
    await h.run('complete', h.completed(of('a'), 0.9));
    await h.run('complete', h.completed(of('b'), 0.87));
    const [c] = await h.pump();
    expect(c!.data.subtaskId).toBe(id('c'));
    const last = h.completed(c!, 1);
    await h.run('complete', last);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'completed', completedAt: expect.any(String) });
    const finished = await h.outbox('workflow.completed');
    expect(finished.map((e) => e.data)).toEqual([{ workflowId, subtaskCount: 3, averageQuality: expect.closeTo((0.9 + 0.87 + 1) / 3, 9) }]);
    await expectIdempotent(h, 'complete', last, workflowId);
  });

  it('re-runs a result below ORCHESTRATION_QUALITY_THRESHOLD on another agent, then fails the workflow after ORCHESTRATION_RETRY_ATTEMPTS', async () => {
    const { h, workflowId, of, id } = await running(diamond, { config: { ORCHESTRATION_RETRY_ATTEMPTS: 1 } });
    const first = of('a');
    const low = h.completed(first, 0.5);
    await h.run('complete', low);
    expect(await h.subtask(id('a'))).toMatchObject({
      status: 'ready',
      assignedAgent: null,
      leaseToken: null,
      attempts: 1,
      lastError: expect.stringMatching(/quality 0.5 below threshold 0.85/),
    });
    expect(await readyEvents(h)).toEqual([{ workflowId, subtaskId: id('a'), specialty: 'data_analyst', attempt: 2, excludeAgents: [first.data.agentId] }]);
    expect(await h.directory.get(first.data.agentId)).toMatchObject({ failed: 1, consecutiveFailures: 1 });
    await expectIdempotent(h, 'complete', low, workflowId);

    const [second] = await h.pump();
    expect(second!.data).toMatchObject({ subtaskId: id('a'), attempt: 2 });
    expect(second!.data.leaseToken).toBeGreaterThan(first.data.leaseToken);
    expect(second!.data.agentId).not.toBe(first.data.agentId);

    const b = of('b');
    await h.run('complete', h.completed(second!, 0.4));
    expect(await h.subtask(id('a'))).toMatchObject({ status: 'failed', attempts: 2, lastError: expect.stringMatching(/after 2 attempts/) });
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'failed', failureReason: expect.stringContaining(id('a')) });
    expect(await h.subtask(id('b'))).toMatchObject({ status: 'cancelled' });
    expect(await h.subtask(id('c'))).toMatchObject({ status: 'cancelled' });
    expect(await h.leases.get(leaseKeyOf(id('b')))).toBeNull();
    expect((await h.directory.get(b.data.agentId))?.load).toBe(0);
    expect((await h.outbox('workflow.failed')).map((e) => e.data)).toEqual([{ workflowId, reason: expect.any(String), failedSubtaskId: id('a') }]);

    // A late result of the cancelled subtask changes nothing.
    const before = await h.subtasks(workflowId);
    expect((await h.run('complete', h.completed(b, 0.99))).status).toBe('skipped');
    expect(await h.subtasks(workflowId)).toEqual(before);
  });

  it.each(['agent_error', 'timeout', 'lease_expired', 'agent_lost'] as const)('re-runs a subtask.failed (%s) on another agent', async (cause) => {
    const { h, workflowId, of, id } = await running(diamond);
    const a = of('a');
    const failed = h.failed(a, cause, 'boom');
    await h.run('complete', failed);
    expect(await h.subtask(id('a'))).toMatchObject({ status: 'ready', assignedAgent: null, lastError: `${cause}: boom` });
    expect(await readyEvents(h)).toEqual([{ workflowId, subtaskId: id('a'), specialty: 'data_analyst', attempt: 2, excludeAgents: [a.data.agentId] }]);
    expect(await h.leases.get(leaseKeyOf(id('a')))).toBeNull();
    await expectIdempotent(h, 'complete', failed, workflowId);
  });

  it('ignores a result with a stale token, a stale attempt or the wrong agent', async () => {
    const { h, workflowId, of } = await running(diamond);
    const a = of('a');
    const before = { subtasks: await h.subtasks(workflowId), workflow: await h.workflow(workflowId) };
    const stale = [
      { ...a, data: { ...a.data, leaseToken: a.data.leaseToken + 1 } },
      { ...a, data: { ...a.data, attempt: 2 } },
      { ...a, data: { ...a.data, agentId: 'intruder' } },
    ];
    for (const d of stale) {
      const result = await h.run('complete', h.completed(d, 0.99));
      expect(result.status).toBe('skipped');
      expect(await h.run('complete', h.failed(d, 'agent_error'))).toMatchObject({ status: 'skipped' });
    }
    expect({ subtasks: await h.subtasks(workflowId), workflow: await h.workflow(workflowId) }).toEqual(before);
    expect(await h.outbox()).toEqual([]);
    expect(await h.leases.get(leaseKeyOf(a.data.subtaskId))).toMatchObject({ token: a.data.leaseToken });
  });

  it('fires a phase quality gate: a mean below its threshold re-runs the weakest subtask of the phase', async () => {
    const gates = [{ name: 'analysis_accuracy' as const, phase: 'analysis' as const, threshold: 0.9 }];
    const { h, workflowId, of, id } = await running(diamond, { gates });
    await h.run('complete', h.completed(of('a'), 0.92));
    await h.run('complete', h.completed(of('b'), 0.86)); // both pass 0.85; the mean 0.89 misses the gate
    expect(await h.subtask(id('b'))).toMatchObject({
      status: 'ready',
      attempts: 1,
      lastError: expect.stringMatching(/quality gate analysis_accuracy scored 0.890 below 0.9/),
    });
    expect(await h.subtask(id('a'))).toMatchObject({ status: 'completed' });
    expect((await h.subtask(id('c'))).status).toBe('pending');
    expect((await readyEvents(h)).map((r) => [r.subtaskId, r.attempt])).toEqual([[id('b'), 2]]);

    const [again] = await h.pump();
    await h.run('complete', h.completed(again!, 0.95));
    expect((await h.subtask(id('c'))).status).toBe('ready');
    expect((await h.workflow(workflowId)).status).toBe('running');
  });

  it('lets a phase whose mean meets the gate through', async () => {
    const gates = [{ name: 'analysis_accuracy' as const, phase: 'analysis' as const, threshold: 0.9 }];
    const { h, of, id } = await running(diamond, { gates });
    await h.run('complete', h.completed(of('a'), 0.95));
    await h.run('complete', h.completed(of('b'), 0.86));
    expect((await h.subtask(id('b'))).status).toBe('completed');
    expect((await h.subtask(id('c'))).status).toBe('ready');
  });

  it('checks every gate of a phase, not only the first (compliance_review 0.95 shares the qa phase with output_quality 0.92)', async () => {
    const steps: StepSpec[] = [
      { key: 'a', specialty: 'data_analyst', phase: 'qa' },
      { key: 'b', specialty: 'data_analyst', phase: 'qa' },
    ];
    const gates = [
      { name: 'output_quality' as const, phase: 'qa' as const },
      { name: 'compliance_review' as const, phase: 'qa' as const },
    ];
    const { h, workflowId, of } = await running(steps, { gates });
    await h.run('complete', h.completed(of('a'), 0.93));
    await h.run('complete', h.completed(of('b'), 0.93)); // meets 0.92, misses 0.95
    expect((await h.workflow(workflowId)).status).toBe('running');
    expect(await readyEvents(h)).toHaveLength(1);
  });

  it('wakes one subtask of another workflow waiting for the freed capacity', async () => {
    const h = await createHarness({
      planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]),
      config: { ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 },
    });
    await h.agent('analyst', 'data_analyst');
    const { workflowId: first } = await h.start('first');
    const [busy] = await h.pump();
    const { workflowId: second } = await h.start('second');
    expect(await h.pump()).toEqual([]);
    expect(await h.subtask(`${second}.a`)).toMatchObject({ status: 'ready', assignedAgent: null });

    await h.run('complete', h.completed(busy!, 0.9));
    expect((await h.workflow(first)).status).toBe('completed');
    expect(await readyEvents(h)).toEqual([{ workflowId: second, subtaskId: `${second}.a`, specialty: 'data_analyst', attempt: 1, excludeAgents: [] }]);
    const [woken] = await h.pump();
    expect(woken!.data).toMatchObject({ workflowId: second, agentId: 'analyst' });
  });

  it('each freed slot wakes the next waiting subtask, not the first again, and none once the free slots cover the queue', async () => {
    const h = await createHarness({
      planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]),
      config: { ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 },
    });
    for (const id of ['analyst-1', 'analyst-2', 'analyst-3']) await h.agent(id, 'data_analyst');
    const busy: EventOf<'subtask.dispatched'>[] = [];
    for (const name of ['busy-1', 'busy-2', 'busy-3']) {
      await h.start(name);
      busy.push(...(await h.pump()));
    }
    expect(busy).toHaveLength(3);
    const { workflowId: third } = await h.start('third');
    expect(await h.pump()).toEqual([]);
    const { workflowId: fourth } = await h.start('fourth');
    expect(await h.pump()).toEqual([]);

    // Results land one after another while the wake-ups they sent are still on the way (not yet assigned).
    const wokenBy = async (result: EventOf<'subtask.dispatched'>): Promise<string[]> => {
      await h.run('complete', h.completed(result, 0.9));
      return (await h.take()).flatMap((e) => (e.type === 'subtask.ready' ? [e.data.workflowId] : []));
    };
    expect(await wokenBy(busy[0]!)).toEqual([third]);
    expect(await wokenBy(busy[1]!)).toEqual([fourth]);
    expect(await wokenBy(busy[2]!)).toEqual([]);

    // The two wake-ups arrive: both waiting subtasks are assigned to the freed agents.
    for (const workflowId of [third, fourth]) {
      await h.run(
        'assign',
        makeEvent(subtaskReady, { workflowId, subtaskId: `${workflowId}.a`, specialty: 'data_analyst', attempt: 1, excludeAgents: [] }, h.context),
      );
    }
    expect((await h.pump()).map((d) => d.data.workflowId).sort()).toEqual([third, fourth].sort());
  });

  it("a tenant's agent freeing its slot wakes its own tenant's waiting work, even behind other tenants' older backlog", async () => {
    const h = await createHarness({
      planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]),
      config: { ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 },
    });
    await h.agent('acme-analyst', 'data_analyst', { tenant: 'acme' });
    const submitFor = async (tenant: string, description: string): Promise<string> => {
      const workflowId = uniqueId(tenant);
      const event = makeEvent(taskSubmitted, { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false }, h.context);
      await h.store.createWorkflow(
        { id: workflowId, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: isoTime(h.clock.now()), tenant },
        [],
      );
      await h.run('decompose', event);
      return workflowId;
    };
    await submitFor('acme', 'first');
    const [busy] = await h.pump();
    expect(busy!.data.agentId).toBe('acme-analyst');
    // Five older subtasks of another tenant, which no agent of acme may take, wait ahead of acme's next one.
    for (let i = 0; i < 5; i++) await submitFor('beta', `backlog${i}`);
    const own = await submitFor('acme', 'second');
    expect(await h.pump()).toEqual([]);

    await h.run('complete', h.completed(busy!, 0.9));
    expect((await readyEvents(h)).map((e) => e.workflowId)).toEqual([own]);
    const [woken] = await h.pump();
    expect(woken!.data).toMatchObject({ workflowId: own, agentId: 'acme-analyst' });
  });
});
