import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../shared/events/index.js';
import { toOutbox } from '../../shared/engine/process-event.js';
import { commitWithEffects } from '../../shared/engine/effects.js';
import { createHarness, fixedPlanner, snapshot, uniqueId, type Harness, type StepSpec } from '../../test/unit/helpers/fixture.js';
import { leaseKeyOf, workKeyOf } from '../common/deps.js';
import { control, InvalidTransitionError, type ControlCommand } from './handler.js';

/** a, b (analysis) → c (production). */
const steps: StepSpec[] = [
  { key: 'a', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'b', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'c', specialty: 'content_writer_editor', phase: 'production', deps: ['a', 'b'] },
];

/** Runs a command as the API does: the handler, then one commit keyed by the command id, then its effects. */
async function command(h: Harness, name: ControlCommand, workflowId: string, commandId = uniqueId(name)) {
  const outcome = await control(name, workflowId, commandId, h.ports, name === 'cancel' ? 'user changed their mind' : undefined);
  const committed = await commitWithEffects({ consumer: 'api', eventId: commandId, ...outcome.change, outbox: toOutbox(outcome.emit) }, outcome.after, h.ports);
  return { outcome, committed };
}

/** a is in progress on analyst-1; b is assigned to analyst-2 but not yet dispatched; c is pending. */
async function midFlight() {
  const h = await createHarness({ planner: fixedPlanner(steps) });
  await h.agent('analyst-1', 'data_analyst');
  await h.agent('analyst-2', 'data_analyst', { capacity: 1 });
  await h.agent('writer', 'content_writer_editor');
  const { workflowId } = await h.start('analyse and write');
  const id = (key: string) => `${workflowId}.${key}`;
  for (const e of await h.take()) if (e.type === 'subtask.ready') await h.run('assign', e);
  const assigned = (await h.take()).filter((e): e is EventOf<'subtask.assigned'> => e.type === 'subtask.assigned');
  const forA = assigned.find((e) => e.data.subtaskId === id('a'))!;
  const forB = assigned.find((e) => e.data.subtaskId === id('b'))!;
  await h.run('dispatch', forA);
  const [dispatchedA] = (await h.take()).filter((e): e is EventOf<'subtask.dispatched'> => e.type === 'subtask.dispatched');
  return { h, workflowId, id, forA, forB, dispatchedA: dispatchedA! };
}

describe('control: cancel', () => {
  it('cancels every open subtask, releases the leases, emits workflow.cancelled and ignores late results', async () => {
    const { h, workflowId, id, forB, dispatchedA } = await midFlight();
    expect(forB.data.agentId).toBe('analyst-2');
    const { committed } = await command(h, 'cancel', workflowId);
    expect(committed).toBe('applied');

    expect(await h.workflow(workflowId)).toMatchObject({ status: 'cancelled', failureReason: 'user changed their mind', completedAt: expect.any(String) });
    expect((await h.subtasks(workflowId)).map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await h.leases.get(leaseKeyOf(id('a')))).toBeNull();
    expect((await h.directory.get(dispatchedA.data.agentId))?.load).toBe(0);
    expect((await h.outbox()).map((e) => [e.type, e.data])).toEqual([
      ['workflow.cancelled', { workflowId, reason: 'user changed their mind', cancelledSubtaskIds: [id('a'), id('b'), id('c')] }],
    ]);

    const before = await snapshot(h, workflowId);
    expect((await h.run('complete', h.completed(dispatchedA, 0.99))).status).toBe('skipped');
    expect((await h.run('dispatch', forB)).status).toBe('skipped');
    expect(await snapshot(h, workflowId)).toEqual(before);
    expect(await h.leases.get(leaseKeyOf(id('b')))).toBeNull();
  });

  it('returns the releases as effects for after the commit, and frees nothing itself', async () => {
    const { h, workflowId, id, dispatchedA } = await midFlight();
    const lease = await h.leases.get(leaseKeyOf(id('a')));
    const outcome = await control('cancel', workflowId, uniqueId('cancel'), h.ports);
    expect(outcome.after).toEqual([
      { kind: 'releaseLease', key: leaseKeyOf(id('a')), token: dispatchedA.data.leaseToken },
      { kind: 'releaseSlot', agentId: 'analyst-1', workKey: workKeyOf(id('a'), 1) },
      { kind: 'releaseSlot', agentId: 'analyst-2', workKey: workKeyOf(id('b'), 1) },
    ]);
    expect(await h.leases.get(leaseKeyOf(id('a')))).toEqual(lease);
    expect([(await h.directory.get('analyst-1'))?.load, (await h.directory.get('analyst-2'))?.load]).toEqual([1, 1]);
  });

  it('frees the slot of a subtask that was assigned but not yet dispatched', async () => {
    const { h, workflowId } = await midFlight();
    expect((await h.directory.get('analyst-2'))?.load).toBe(1);
    await command(h, 'cancel', workflowId);
    expect((await h.directory.get('analyst-2'))?.load).toBe(0);
  });

  it('is idempotent per command id: a redelivered cancel commits nothing the second time', async () => {
    const { h, workflowId } = await midFlight();
    const commandId = uniqueId('cancel');
    const outcome = await control('cancel', workflowId, commandId, h.ports);
    const change = { consumer: 'api', eventId: commandId, ...outcome.change, outbox: toOutbox(outcome.emit) };
    expect(await h.store.commit(change)).toBe('applied');
    const before = await snapshot(h, workflowId);
    expect(await h.store.commit(change)).toBe('duplicate');
    expect(await snapshot(h, workflowId)).toEqual(before);
  });
});

describe('control: pause and resume', () => {
  it('pause stops assignment and dispatch while running work completes; resume re-emits the held-back work', async () => {
    const { h, workflowId, id, forB, dispatchedA } = await midFlight();
    await command(h, 'pause', workflowId);
    expect((await h.workflow(workflowId)).status).toBe('paused');
    expect(await h.outbox()).toEqual([]);

    // b's assignment was made before the pause: its dispatch is held back.
    const assignedB = await h.subtask(id('b'));
    expect(assignedB).toMatchObject({ status: 'ready', assignedAgent: 'analyst-2' });
    expect((await h.run('dispatch', forB)).status).toBe('skipped');
    expect(await h.leases.get(leaseKeyOf(id('b')))).toBeNull();

    // Running work finishes and its dependents become ready, but assign hands them to nobody.
    await h.run('complete', h.completed(dispatchedA, 0.95));
    expect(await h.subtask(id('a'))).toMatchObject({ status: 'completed' });
    expect(await h.outbox()).toEqual([]);
    expect((await h.workflow(workflowId)).status).toBe('paused');

    const { outcome } = await command(h, 'resume', workflowId);
    expect((await h.workflow(workflowId)).status).toBe('running');
    expect(outcome.emit.map((e) => [e.type, e.data])).toEqual([
      ['subtask.assigned', { workflowId, subtaskId: id('b'), specialty: 'data_analyst', attempt: 1, agentId: 'analyst-2' }],
    ]);
    const [dispatchedB] = await h.pump();
    expect(dispatchedB!.data).toMatchObject({ subtaskId: id('b'), agentId: 'analyst-2', attempt: 1 });
    await h.run('complete', h.completed(dispatchedB!, 0.95));
    const [dispatchedC] = await h.pump();
    expect(dispatchedC!.data).toMatchObject({ subtaskId: id('c'), agentId: 'writer' });
  });

  it('resume re-emits subtask.ready for ready work that assign skipped during the pause', async () => {
    const h = await createHarness({ planner: fixedPlanner(steps) });
    await h.agent('analyst', 'data_analyst');
    const { workflowId } = await h.start('analyse');
    const ready = (await h.take()).filter((e) => e.type === 'subtask.ready');
    await command(h, 'pause', workflowId);
    for (const e of ready) expect((await h.run('assign', e)).status).toBe('skipped');
    expect((await h.directory.get('analyst'))?.load).toBe(0);

    const { outcome } = await command(h, 'resume', workflowId);
    expect(outcome.emit.map((e) => [e.type, (e.data as { subtaskId?: string }).subtaskId, (e.data as { attempt?: number }).attempt])).toEqual([
      ['subtask.ready', `${workflowId}.a`, 1],
      ['subtask.ready', `${workflowId}.b`, 1],
    ]);
    expect(await h.pump()).toHaveLength(2);
    expect((await h.directory.get('analyst'))?.load).toBe(2);
  });
});

describe('control: invalid transitions', () => {
  it('throws InvalidTransitionError for a command that does not fit the state', async () => {
    const h = await createHarness({ planner: fixedPlanner(steps) });
    const { workflowId } = await h.start('analyse');
    await expect(control('resume', workflowId, uniqueId(), h.ports)).rejects.toBeInstanceOf(InvalidTransitionError);
    await command(h, 'pause', workflowId);
    await expect(control('pause', workflowId, uniqueId(), h.ports)).rejects.toBeInstanceOf(InvalidTransitionError);
    await command(h, 'cancel', workflowId);
    for (const name of ['cancel', 'pause', 'resume'] as const) {
      await expect(control(name, workflowId, uniqueId(), h.ports)).rejects.toMatchObject({ code: 'INVALID_TRANSITION', retriable: false });
    }
    expect((await h.workflow(workflowId)).status).toBe('cancelled');
  });

  it('says nothing is there for an unknown workflow', async () => {
    const h = await createHarness();
    expect(await control('cancel', uniqueId('ghost'), uniqueId(), h.ports)).toMatchObject({ skipped: 'unknown workflow', emit: [] });
  });
});
