import { describe, expect, it } from 'vitest';
import { ConcurrencyConflictError } from '../../shared/errors.js';
import type { EventOf } from '../../shared/events/index.js';
import { leaseKeyOf } from '../../shared/domain/protocol.js';
import type { AgentDirectory, LeaseStore, WorkflowStore } from '../../shared/ports/index.js';
import { processEvent } from '../../shared/engine/process-event.js';
import { withoutCarriedState } from '../../shared/engine/carried-state.js';
import { createHarness, fixedPlanner, type Harness } from './helpers/fixture.js';

/** The harness's ports with a store whose next commit fails as a concurrent writer's would. */
function failingNextCommit(h: Harness) {
  let armed = true;
  const fail = () => {
    armed = false;
    throw new ConcurrencyConflictError('forced: another delivery moved the row');
  };
  const store: WorkflowStore = {
    ...h.store,
    commit: (change) => (armed ? Promise.resolve().then(fail) : h.store.commit(change)),
    commitClaimed: (change, ms) => (armed ? Promise.resolve().then(fail) : h.store.commitClaimed(change, ms)),
  };
  return { ...h.ports, store };
}

/** Ports that count the lease and slot releases made through them. */
function countingReleases(ports: ReturnType<typeof failingNextCommit>) {
  const released = { leases: 0, slots: 0 };
  const leases: LeaseStore = {
    ...ports.leases,
    release: (key, token) => {
      released.leases += 1;
      return ports.leases.release(key, token);
    },
  };
  const directory: AgentDirectory = {
    ...ports.directory,
    release: (agentId, workKey, outcome) => {
      released.slots += 1;
      return ports.directory.release(agentId, workKey, outcome);
    },
  };
  return { ports: { ...ports, leases, directory }, released };
}

const loads = async (h: Harness, ...ids: string[]) => Promise.all(ids.map(async (id) => (await h.directory.get(id))!.load));

/** One ready subtask (its subtask.ready carries its row state) and two free analysts. */
async function oneSubtaskTwoAnalysts() {
  const h = await createHarness({ planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]) });
  await h.agent('analyst-1', 'data_analyst');
  await h.agent('analyst-2', 'data_analyst');
  const { workflowId } = await h.start('one subtask');
  const [ready] = await h.outbox('subtask.ready');
  expect(ready?.data.carried).toBeDefined();
  return { h, workflowId, ready: ready! };
}

/** Exactly the slot the committed assignment holds is taken: 1 in all, on the assigned agent. */
async function expectOnlyTheAssignedSlotTaken(h: Harness, workflowId: string): Promise<void> {
  const assigned = (await h.subtasks(workflowId))[0]!.assignedAgent;
  const [one, two] = await loads(h, 'analyst-1', 'analyst-2');
  expect(one! + two!).toBe(1);
  expect((await h.directory.get(assigned!))!.load).toBe(1);
}

describe('what a handler takes before a commit that does not happen is given back', () => {
  it('a failed assign commit whose retry picks another agent leaves no slot taken', async () => {
    const { h, workflowId, ready: carrying } = await oneSubtaskTwoAnalysts();
    // The read path: a conflict is the caller's to retry (the carried path retries it itself: next test).
    const ready = withoutCarriedState(carrying);

    await expect(processEvent('assign', ready, failingNextCommit(h))).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(await loads(h, 'analyst-1', 'analyst-2')).toEqual([0, 0]);

    const retried = await processEvent('assign', ready, h.ports);
    expect(retried.status).toBe('applied');
    await expectOnlyTheAssignedSlotTaken(h, workflowId);
  });

  it('an assign on carried state whose commit conflicts gives its slot back and runs again on a read: one slot taken in all', async () => {
    const { h, workflowId, ready } = await oneSubtaskTwoAnalysts();
    const { ports, released } = countingReleases(failingNextCommit(h));

    expect((await processEvent('assign', ready, ports)).status).toBe('applied');
    expect(released.slots).toBe(1);
    await expectOnlyTheAssignedSlotTaken(h, workflowId);
  });

  it('a failed dispatch commit releases the lease it acquired, and the retry dispatches', async () => {
    const { h, workflowId, assigned: carrying } = await oneAssignedSubtask();
    // The read path: a conflict is the caller's to retry (the carried path retries it itself: next test).
    const assigned = withoutCarriedState(carrying);
    const subtaskId = carrying.data.subtaskId;

    await expect(processEvent('dispatch', assigned, failingNextCommit(h))).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(await h.leases.get(leaseKeyOf(subtaskId))).toBeNull();

    expect((await processEvent('dispatch', assigned, h.ports)).status).toBe('applied');
    const subtask = (await h.subtasks(workflowId))[0]!;
    expect(subtask.status).toBe('in_progress');
    expect((await h.leases.get(leaseKeyOf(subtaskId)))?.token).toBe(subtask.leaseToken);
  });

  it('a dispatch on carried state whose commit conflicts gives its lease back and runs again on a read: one live lease, the committed one', async () => {
    const { h, workflowId, assigned } = await oneAssignedSubtask();
    expect(assigned.data.carried).toBeDefined();
    const { ports, released } = countingReleases(failingNextCommit(h));

    expect((await processEvent('dispatch', assigned, ports)).status).toBe('applied');
    expect(released.leases).toBe(1);
    const subtask = (await h.subtasks(workflowId))[0]!;
    expect(subtask.status).toBe('in_progress');
    expect((await h.leases.get(leaseKeyOf(subtask.id)))?.token).toBe(subtask.leaseToken);
  });

  it('a slot the committed state holds is kept when a concurrent delivery of the same event lost', async () => {
    const h = await createHarness({ planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]) });
    await h.agent('analyst-1', 'data_analyst');
    const { workflowId } = await h.start('one subtask');
    const [ready] = await h.outbox('subtask.ready');
    // The loser read before the winner committed; its handler then reserves the same (agent, work key), idempotently.
    const stale = await h.store.readForEvent('assign', ready!.id, workflowId, { subtasks: 'one', subtaskId: ready!.data.subtaskId });
    expect((await processEvent('assign', ready, h.ports)).status).toBe('applied');
    const loser = { ...h.ports, store: { ...h.store, readForEvent: () => Promise.resolve(stale) } };
    expect((await processEvent('assign', ready, loser)).status).toBe('duplicate');
    expect((await h.subtasks(workflowId))[0]!.assignedAgent).toBe('analyst-1');
    expect((await h.directory.get('analyst-1'))!.load).toBe(1);
  });

  it('a failed complete commit leaves the lease held and the load as it was; the retry releases them exactly once', async () => {
    const h = await createHarness({ planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]) });
    await h.agent('analyst-1', 'data_analyst');
    const { workflowId } = await h.start('one subtask');
    const [dispatched] = await h.pump();
    const { subtaskId, leaseToken } = dispatched!.data;
    const done = h.completed(dispatched!, 0.95);
    const failing = countingReleases(failingNextCommit(h));

    await expect(processEvent('complete', done, failing.ports)).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(failing.released).toEqual({ leases: 0, slots: 0 });
    expect((await h.leases.get(leaseKeyOf(subtaskId)))?.token).toBe(leaseToken);
    expect(await h.directory.get('analyst-1')).toMatchObject({ load: 1, completed: 0 });
    expect((await h.subtasks(workflowId))[0]!.status).toBe('in_progress');

    expect((await processEvent('complete', done, failing.ports)).status).toBe('applied');
    expect((await processEvent('complete', done, failing.ports)).status).toBe('duplicate');
    expect(failing.released).toEqual({ leases: 1, slots: 1 });
    expect(await h.leases.get(leaseKeyOf(subtaskId))).toBeNull();
    expect(await h.directory.get('analyst-1')).toMatchObject({ load: 0, completed: 1 });
    expect((await h.workflow(workflowId)).status).toBe('completed');
  });
});

/** One subtask assigned to the only analyst: the harness, its workflow and the subtask.assigned (carrying its state). */
async function oneAssignedSubtask() {
  const h = await createHarness({ planner: fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]) });
  await h.agent('analyst-1', 'data_analyst');
  const { workflowId } = await h.start('one subtask');
  await processEvent(
    'assign',
    (await h.take()).find((e) => e.type === 'subtask.ready'),
    h.ports,
  );
  const assigned = (await h.take()).find((e) => e.type === 'subtask.assigned') as EventOf<'subtask.assigned'>;
  return { h, workflowId, assigned };
}
