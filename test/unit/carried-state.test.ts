// Event-carried state (issue 16, ORCHESTRATION_EVENT_SNAPSHOTS): subtask.ready carries the subtask's row
// version and its workflow's tenant as the producer's commit wrote them; assign runs without reading
// them and its commit checks them. Run on the SQL store (PGlite, or pg with TEST_DATABASE_URL).
import { describe, expect, it } from 'vitest';
import { makeEvent, workflowCommandRequested, type EventOf } from '../../shared/events/index.js';
import { processEvent } from '../../shared/engine/process-event.js';
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

const carriedCount = async (metrics: ReturnType<typeof createMetrics>, outcome: 'used' | 'stale' | 'read') =>
  (await metrics.carriedState.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

describe('event-carried state', () => {
  it('every subtask.ready a commit emits carries the version that commit wrote: inserted, released and re-run', async () => {
    const { h, workflowId, ready } = await started();
    expect(ready.map((e) => e.data.carried)).toEqual([
      { subtaskVersion: (await h.subtask(`${workflowId}.a`)).version, tenant: (await h.workflow(workflowId)).tenant },
    ]);

    // Released dependent: b moves pending → ready in complete's commit.
    for (const event of ready) await h.run('assign', event);
    const [first] = await h.pump();
    await h.run('complete', h.completed(first!, 0.95));
    const released = await readyOf(h);
    expect(released.map((e) => [e.data.subtaskId, e.data.carried?.subtaskVersion])).toEqual([
      [`${workflowId}.b`, (await h.subtask(`${workflowId}.b`)).version],
    ]);

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

  it('ORCHESTRATION_EVENT_SNAPSHOTS=false carries nothing, and assign reads', async () => {
    const { h, ready } = await started({ config: { ORCHESTRATION_EVENT_SNAPSHOTS: false } });
    expect(ready.map((e) => e.data.carried)).toEqual([undefined]);
    const { counted, reads } = countingReads(h.store);
    expect((await processEvent('assign', ready[0], { ...h.ports, store: counted })).status).toBe('applied');
    expect(reads.readForEvent).toBe(1);
  });
});
