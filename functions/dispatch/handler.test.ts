import { describe, expect, it } from 'vitest';
import { isRetriable } from '../../shared/errors.js';
import type { EventOf } from '../../shared/events/index.js';
import { createHarness, expectIdempotent, fixedPlanner, T0, type HarnessOptions } from '../../test/unit/helpers/fixture.js';
import { leaseKeyOf } from '../common/deps.js';
import { LeaseHeldError } from './handler.js';

/** a (research, 40 min) → b (analysis, 30 min): b's dispatch must carry a's output. */
const chain = fixedPlanner([
  { key: 'a', specialty: 'academic_researcher', phase: 'research', minutes: 40 },
  { key: 'b', specialty: 'data_analyst', phase: 'analysis', deps: ['a'], minutes: 30 },
]);

async function assigned(options: HarnessOptions = {}) {
  const h = await createHarness({ planner: chain, ...options });
  await h.agent('researcher', 'academic_researcher');
  await h.agent('analyst', 'data_analyst');
  const { workflowId } = await h.start('research then analyse');
  for (const e of await h.take()) if (e.type === 'subtask.ready') await h.run('assign', e);
  const [event] = (await h.take()).filter((e): e is EventOf<'subtask.assigned'> => e.type === 'subtask.assigned');
  return { h, workflowId, event: event! };
}

describe('dispatch', () => {
  it('takes a fenced lease, marks the subtask in progress with its attempt and emits subtask.dispatched', async () => {
    const { h, workflowId, event } = await assigned();
    h.clock.advance(5_000);
    expect((await h.run('dispatch', event)).status).toBe('applied');

    const lease = await h.leases.get(leaseKeyOf(`${workflowId}.a`));
    expect(lease).toMatchObject({ holder: 'researcher', token: 1, expiresAt: h.clock.now() + h.config.ORCHESTRATION_LEASE_TTL_SECONDS * 1000 });
    const deadline = new Date(T0 + 5_000 + 40 * 60_000 * h.config.ORCHESTRATION_SUBTASK_TIMEOUT_FACTOR).toISOString();
    const subtask = await h.subtask(`${workflowId}.a`);
    expect(subtask).toMatchObject({ status: 'in_progress', attempts: 1, leaseToken: 1, assignedAgent: 'researcher' });
    expect(Date.parse(subtask.deadline!)).toBe(Date.parse(deadline));

    const [dispatched, ...rest] = await h.outbox();
    expect(rest).toEqual([]);
    expect(dispatched).toMatchObject({
      type: 'subtask.dispatched',
      data: {
        workflowId,
        subtaskId: `${workflowId}.a`,
        attempt: 1,
        agentId: 'researcher',
        leaseToken: 1,
        deadline,
        task: { specialty: 'academic_researcher', inputs: [] },
      },
    });
    await expectIdempotent(h, 'dispatch', event, workflowId);
  });

  it('caps the deadline at the workflow timeout', async () => {
    // 0.5 h workflow timeout < 40 min × 2.
    const { h, workflowId, event } = await assigned({ config: { ORCHESTRATION_WORKFLOW_TIMEOUT: 0.5 } });
    h.clock.advance(60_000);
    await h.run('dispatch', event);
    expect(Date.parse((await h.subtask(`${workflowId}.a`)).deadline!)).toBe(T0 + 30 * 60_000);
  });

  it('passes the outputs of the dependencies as inputs', async () => {
    const { h, workflowId, event } = await assigned();
    await h.run('dispatch', event);
    const [first] = await h.outbox('subtask.dispatched');
    await h.take();
    await h.run('complete', h.completed(first!, 0.97, { findings: ['x', 'y'] }));
    const dispatched = await h.pump();
    expect(dispatched).toHaveLength(1);
    expect(dispatched[0]!.data).toMatchObject({
      subtaskId: `${workflowId}.b`,
      agentId: 'analyst',
      task: { specialty: 'data_analyst', inputs: [{ subtaskId: `${workflowId}.a`, output: { findings: ['x', 'y'] } }] },
    });
  });

  it('throws a retriable LeaseHeldError while another holder has a live lease, and changes nothing', async () => {
    const { h, workflowId, event } = await assigned();
    await h.leases.acquire(leaseKeyOf(`${workflowId}.a`), 'zombie', 60_000);
    const before = await h.subtask(`${workflowId}.a`);
    const outcome = h.run('dispatch', event);
    await expect(outcome).rejects.toBeInstanceOf(LeaseHeldError);
    await expect(outcome.catch((e: unknown) => isRetriable(e))).resolves.toBe(true);
    expect(await h.subtask(`${workflowId}.a`)).toEqual(before);
    expect(await h.outbox()).toEqual([]);
    expect(await h.store.hasProcessed('dispatch', event.id)).toBe(false);

    // Once the zombie lease is gone, the redelivery succeeds with a newer token.
    h.clock.advance(60_001);
    expect((await h.run('dispatch', event)).status).toBe('applied');
    expect((await h.subtask(`${workflowId}.a`)).leaseToken).toBe(2);
  });

  it('does nothing for a stale assignment, another agent or a paused workflow', async () => {
    const { h, workflowId, event } = await assigned();
    // Made-up events that no commit wrote: without carried state (which would vouch for them), so dispatch reads.
    const { carried: _carried, ...bare } = event.data;
    expect((await h.run('dispatch', { ...event, id: `${event.id}-other`, data: { ...bare, agentId: 'analyst' } })).status).toBe('skipped');
    expect((await h.run('dispatch', { ...event, id: `${event.id}-attempt`, data: { ...bare, attempt: 2 } })).status).toBe('skipped');
    const workflow = await h.workflow(workflowId);
    await h.store.commit({
      consumer: 'test',
      eventId: 'pause',
      workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status: 'paused' } }],
    });
    expect((await h.run('dispatch', event)).status).toBe('skipped');
    expect(await h.leases.get(leaseKeyOf(`${workflowId}.a`))).toBeNull();
    expect(await h.subtask(`${workflowId}.a`)).toMatchObject({ status: 'ready', attempts: 0, leaseToken: null });
    expect(await h.outbox()).toEqual([]);
  });
});
