// Event-carried state (issue 16, ORCHESTRATION_EVENT_SNAPSHOTS): subtask.ready carries the subtask's row
// version and its workflow's tenant as the producer's commit wrote them; assign runs without reading
// them and its commit checks them. For a subtask without dependencies the task rides along too, and
// assign hands it on in subtask.assigned, so dispatch runs without a read as well. Run on the SQL
// store (PGlite, or pg with TEST_DATABASE_URL).
import { describe, expect, it } from 'vitest';
import { makeEvent, workflowCommandRequested, type EventOf } from '../../shared/events/index.js';
import { processEvent } from '../../shared/engine/process-event.js';
import { leaseKeyOf } from '../../shared/domain/protocol.js';
import { createMetrics } from '../../shared/observability/metrics.js';
import type { WorkflowStore } from '../../shared/ports/index.js';
import { createHarness, fixedPlanner, recordingSpawner, type Harness, type HarnessOptions, type StepSpec } from './helpers/fixture.js';

const chain: StepSpec[] = [
  { key: 'a', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'b', specialty: 'data_analyst', phase: 'production', deps: ['a'] },
];

async function started(options: HarnessOptions = {}) {
  const h = await createHarness({ planner: fixedPlanner(chain), ...options });
  await h.agent('analyst-1', 'data_analyst');
  await h.agent('analyst-2', 'data_analyst');
  const { workflowId } = await h.start('analyse the data');
  return { h, workflowId, ready: await readyOf(h) };
}

const readyOf = async (h: Harness) => (await h.take()).filter((e): e is EventOf<'subtask.ready'> => e.type === 'subtask.ready');

/** The store, counting the reads that would fetch the event's own rows. */
function countingReads(store: WorkflowStore) {
  const reads = { readForEvent: 0, getWorkflow: 0, getSubtask: 0, getSubtasks: 0, hasProcessed: 0 };
  const counted: WorkflowStore = {
    ...store,
    readForEvent: (...args) => (reads.readForEvent++, store.readForEvent(...args)),
    getWorkflow: (...args) => (reads.getWorkflow++, store.getWorkflow(...args)),
    getSubtask: (...args) => (reads.getSubtask++, store.getSubtask(...args)),
    getSubtasks: (...args) => (reads.getSubtasks++, store.getSubtasks(...args)),
    hasProcessed: (...args) => (reads.hasProcessed++, store.hasProcessed(...args)),
  };
  return { counted, reads, total: () => Object.values(reads).reduce((sum, n) => sum + n, 0) };
}

const carriedCount = async (metrics: ReturnType<typeof createMetrics>, outcome: 'used' | 'stale' | 'read', fn: 'assign' | 'dispatch' = 'assign') =>
  (await metrics.carriedState.get()).values.find((v) => v.labels.outcome === outcome && v.labels.function === fn)?.value ?? 0;

describe('event-carried state', () => {
  it('every subtask.ready a commit emits carries the version that commit wrote: inserted, released and re-run', async () => {
    const { h, workflowId, ready } = await started();
    const a = await h.subtask(`${workflowId}.a`);
    const workflow = await h.workflow(workflowId);
    // a depends on nothing: its task rides along, for dispatch.
    const task = {
      title: a.title,
      description: a.description,
      successCriteria: a.successCriteria,
      estimatedMinutes: a.estimatedMinutes,
      workflowCreatedAt: workflow.createdAt,
    };
    expect(ready.map((e) => e.data.carried)).toEqual([{ subtaskVersion: a.version, tenant: workflow.tenant, task }]);

    // Released dependent: b moves pending → ready in complete's commit.
    for (const event of ready) await h.run('assign', event);
    const [first] = await h.pump();
    await h.run('complete', h.completed(first!, 0.95));
    const released = await readyOf(h);
    expect(released.map((e) => [e.data.subtaskId, e.data.carried?.subtaskVersion])).toEqual([
      [`${workflowId}.b`, (await h.subtask(`${workflowId}.b`)).version],
    ]);
    // b needs a's output: no task carried, dispatch reads the outputs.
    expect(released[0]?.data.carried?.task).toBeUndefined();

    // Re-run: b fails, complete makes it ready for attempt 2 in the same commit.
    for (const event of released) await h.run('assign', event);
    const [second] = await h.pump();
    await h.run('complete', h.failed(second!, 'agent_error'));
    const rerun = await readyOf(h);
    const b = await h.subtask(`${workflowId}.b`);
    expect(rerun.map((e) => ({ attempt: e.data.attempt, version: e.data.carried?.subtaskVersion }))).toEqual([{ attempt: b.attempts + 1, version: b.version }]);
  });

  it('assign on carried state reads none of the event’s rows and commits the assignment', async () => {
    const { h, workflowId, ready } = await started();
    const { counted, reads, total } = countingReads(h.store);
    const metrics = createMetrics();
    const result = await processEvent('assign', ready[0], { ...h.ports, store: counted }, { metrics });
    expect(result.status).toBe('applied');
    expect(reads).toEqual({ readForEvent: 0, getWorkflow: 0, getSubtask: 0, getSubtasks: 0, hasProcessed: 0 });
    expect(total()).toBe(0);
    expect((await h.subtask(`${workflowId}.a`)).assignedAgent).not.toBeNull();
    expect(await carriedCount(metrics, 'used')).toBe(1);
    expect(await carriedCount(metrics, 'stale')).toBe(0);
  });

  it('a redelivery of a carried event is a duplicate and leaves the first delivery’s slot held', async () => {
    const { h, workflowId, ready } = await started();
    expect((await h.run('assign', ready[0])).status).toBe('applied');
    const holder = (await h.subtask(`${workflowId}.a`)).assignedAgent!;
    expect((await h.run('assign', ready[0])).status).toBe('duplicate');
    expect((await h.directory.get(holder))?.load).toBe(1);
    expect((await h.subtask(`${workflowId}.a`)).assignedAgent).toBe(holder);
  });

  it('stale carried state (the workflow paused after the event was written) is caught by the commit: assign reads, waits, and holds no slot', async () => {
    const { h, workflowId, ready } = await started();
    const pause = makeEvent(workflowCommandRequested, { workflowId, command: 'pause' }, h.context);
    expect((await h.run('control', pause)).status).toBe('applied');
    await h.take();
    const metrics = createMetrics();
    const result = await processEvent('assign', ready[0], h.ports, { metrics });
    expect(result.status).toBe('skipped');
    expect(result.status === 'skipped' && result.outcome.skipped).toMatch(/paused/);
    expect(await carriedCount(metrics, 'stale')).toBe(1);
    expect((await h.subtask(`${workflowId}.a`)).assignedAgent).toBeNull();
    for (const agent of ['analyst-1', 'analyst-2']) expect((await h.directory.get(agent))?.load).toBe(0);
    expect(await h.outbox()).toEqual([]);
  });

  it('with no free slot assign reads before it spawns or parks: a late redelivery spawns nothing', async () => {
    const spawner = recordingSpawner();
    const h = await createHarness({ planner: fixedPlanner(chain.slice(0, 1)), spawner, config: { ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 } });
    await h.agent('analyst-1', 'data_analyst');
    await h.start('first');
    const [first] = await readyOf(h);
    expect(first?.data.carried).toBeDefined();
    await h.run('assign', first);
    const [work] = await h.pump();
    await h.run('complete', h.completed(work!, 0.95));
    await h.take();
    // The analyst's one slot goes to another workflow's subtask.
    await h.start('second');
    for (const event of await readyOf(h)) expect((await h.run('assign', event)).status).toBe('applied');

    // The first event again, late: its carried state is old, and no slot is free.
    const metrics = createMetrics();
    expect((await processEvent('assign', first, h.ports, { metrics })).status).toBe('duplicate');
    expect(spawner.calls).toEqual([]);
    expect(await carriedCount(metrics, 'read')).toBe(1);
    expect((await h.directory.list()).map((a) => a.id)).toEqual(['analyst-1']);
  });

  describe('dispatch', () => {
    /** Assign on the carried ready event of a; returns the subtask.assigned its commit wrote. */
    async function assigned(h: Harness, ready: EventOf<'subtask.ready'>[]) {
      expect((await h.run('assign', ready[0])).status).toBe('applied');
      const out = (await h.take()).filter((e): e is EventOf<'subtask.assigned'> => e.type === 'subtask.assigned');
      expect(out).toHaveLength(1);
      return out[0]!;
    }

    it('assign hands the task on; dispatch on it reads nothing and sends the agent the same work a read would', async () => {
      const { h, workflowId, ready } = await started();
      const event = await assigned(h, ready);
      const a = await h.subtask(`${workflowId}.a`);
      expect(event.data.carried).toEqual({ subtaskVersion: a.version, task: ready[0]!.data.carried!.task });

      const { counted, total } = countingReads(h.store);
      const metrics = createMetrics();
      expect((await processEvent('dispatch', event, { ...h.ports, store: counted }, { metrics })).status).toBe('applied');
      expect(total()).toBe(0);
      expect(await carriedCount(metrics, 'used', 'dispatch')).toBe(1);
      const [carriedDispatch] = (await h.take()).filter((e): e is EventOf<'subtask.dispatched'> => e.type === 'subtask.dispatched');
      const running = await h.subtask(`${workflowId}.a`);
      expect(running.status).toBe('in_progress');
      expect(running.leaseToken).toBe(carriedDispatch!.data.leaseToken);
      expect(await leaseOf(h, running.id)).toBe(running.leaseToken);

      // The same subtask.assigned without its carried state, on a second workflow: the read path sends the same task and deadline.
      const other = await started();
      const otherEvent = await assigned(other.h, other.ready);
      const { carried: _carried, ...bare } = otherEvent.data;
      expect((await other.h.run('dispatch', { ...otherEvent, data: bare })).status).toBe('applied');
      const [readDispatch] = (await other.h.take()).filter((e): e is EventOf<'subtask.dispatched'> => e.type === 'subtask.dispatched');
      expect(carriedDispatch!.data.task).toEqual(readDispatch!.data.task);
      expect(carriedDispatch!.data.deadline).toBe(readDispatch!.data.deadline);
    });

    it('a redelivered carried subtask.assigned is a duplicate and keeps the running lease', async () => {
      const { h, workflowId, ready } = await started();
      const event = await assigned(h, ready);
      expect((await h.run('dispatch', event)).status).toBe('applied');
      const token = (await h.subtask(`${workflowId}.a`)).leaseToken;
      expect((await h.run('dispatch', event)).status).toBe('duplicate');
      const after = await h.subtask(`${workflowId}.a`);
      expect([after.status, after.leaseToken]).toEqual(['in_progress', token]);
      expect(await leaseOf(h, after.id)).toBe(token);
    });

    it('stale carried state (paused after assign) is caught by the commit: dispatch reads, waits, and gives its lease back', async () => {
      const { h, workflowId, ready } = await started();
      const event = await assigned(h, ready);
      const pause = makeEvent(workflowCommandRequested, { workflowId, command: 'pause' }, h.context);
      expect((await h.run('control', pause)).status).toBe('applied');
      await h.take();
      const metrics = createMetrics();
      const result = await processEvent('dispatch', event, h.ports, { metrics });
      expect(result.status === 'skipped' && result.outcome.skipped).toMatch(/paused/);
      expect(await carriedCount(metrics, 'stale', 'dispatch')).toBe(1);
      expect((await h.subtask(`${workflowId}.a`)).status).toBe('ready');
      expect(await leaseOf(h, `${workflowId}.a`)).toBeNull();
      expect(await h.outbox()).toEqual([]);
    });

    it('a subtask with dependencies is dispatched on a read, with its inputs', async () => {
      const { h, workflowId, ready } = await started();
      await h.run('assign', ready[0]);
      const [first] = await h.pump();
      await h.run('complete', h.completed(first!, 0.95, { found: 42 }));
      const released = await readyOf(h);
      await h.run('assign', released[0]);
      const [event] = (await h.take()).filter((e): e is EventOf<'subtask.assigned'> => e.type === 'subtask.assigned');
      expect(event!.data.carried).toBeUndefined();
      const { counted, reads } = countingReads(h.store);
      expect((await processEvent('dispatch', event, { ...h.ports, store: counted })).status).toBe('applied');
      expect(reads.readForEvent).toBe(1);
      const [dispatched] = (await h.take()).filter((e): e is EventOf<'subtask.dispatched'> => e.type === 'subtask.dispatched');
      expect(dispatched!.data.task.inputs).toEqual([{ subtaskId: `${workflowId}.a`, output: { found: 42 } }]);
    });
  });

  it('ORCHESTRATION_EVENT_SNAPSHOTS=false carries nothing, and assign reads', async () => {
    const { h, ready } = await started({ config: { ORCHESTRATION_EVENT_SNAPSHOTS: false } });
    expect(ready.map((e) => e.data.carried)).toEqual([undefined]);
    const { counted, reads } = countingReads(h.store);
    expect((await processEvent('assign', ready[0], { ...h.ports, store: counted })).status).toBe('applied');
    expect(reads.readForEvent).toBe(1);
  });
});

/** The token of the subtask's live lease, or null. */
async function leaseOf(h: Harness, subtaskId: string): Promise<number | null> {
  return (await h.leases.get(leaseKeyOf(subtaskId)))?.token ?? null;
}
