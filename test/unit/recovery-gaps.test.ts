import { describe, expect, it } from 'vitest';
import { leaseKeyOf, leaseTtlMs } from '../../shared/domain/protocol.js';
import { processEvent } from '../../shared/engine/process-event.js';
import { createMetrics } from '../../shared/observability/metrics.js';
import type { RuntimePorts } from '../../shared/engine/functions.js';
import { createHarness, fixedPlanner, recoveryOf } from './helpers/fixture.js';

const oneAnalysis = () => fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]);

/** The process dies after the commit, before the post-commit effects: no release reaches the lease store or the directory. */
const crashedBeforeEffects = (ports: RuntimePorts): RuntimePorts => ({
  ...ports,
  leases: { ...ports.leases, release: async () => false },
  directory: { ...ports.directory, release: async () => {} },
});

describe('a slot whose release was lost in a crash after the commit is reconciled', () => {
  it('frees it after the grace period, and never frees the slot of work in progress', async () => {
    const h = await createHarness({ planner: oneAnalysis() });
    await h.agent('analyst-1', 'data_analyst');
    const { workflowId } = await h.start('one subtask');
    const [dispatched] = await h.pump();
    const { loop, reconciled } = recoveryOf(h, { metrics: createMetrics(), slotGraceMs: 5_000 });
    expect((await h.directory.get('analyst-1'))!.load).toBe(1);

    // Work in progress keeps its slot however long the reconcile looks at it.
    await loop.tick();
    h.clock.advance(5_000);
    expect((await loop.tick()).reconciled).toBe(0);
    expect((await h.directory.get('analyst-1'))!.load).toBe(1);

    expect((await processEvent('complete', h.completed(dispatched!, 0.95), crashedBeforeEffects(h.ports))).status).toBe('applied');
    expect((await h.subtasks(workflowId))[0]!.status).toBe('completed');
    expect((await h.directory.get('analyst-1'))!.load).toBe(1); // the leak

    h.clock.advance(2_000);
    expect((await loop.tick()).reconciled).toBe(0); // first seen abandoned: within the grace
    h.clock.advance(5_000);
    expect((await loop.tick()).reconciled).toBe(1);
    expect((await h.directory.get('analyst-1'))!.load).toBe(0);
    expect(await h.directory.heldWork()).toEqual([]);
    expect(await reconciled()).toBe(1);
  });

  it('frees the slot of work whose workflow ended, and never one under a work key this system did not make', async () => {
    const h = await createHarness({ planner: oneAnalysis() });
    await h.agent('analyst-1', 'data_analyst');
    const { workflowId } = await h.start('one subtask');
    await h.pump();
    const { loop, reconciled } = recoveryOf(h, { metrics: createMetrics(), slotGraceMs: 5_000 });
    await h.directory.reserve('analyst-1', 'not-ours');
    // The workflow ended while its subtask still shows in progress (the cancel's effects were lost).
    const workflow = await h.workflow(workflowId);
    await h.store.commit({
      consumer: 'test',
      eventId: 'end-it',
      workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status: 'cancelled' } }],
    });
    expect((await h.subtasks(workflowId))[0]!.status).toBe('in_progress');
    expect((await h.directory.get('analyst-1'))!.load).toBe(2);

    await loop.tick();
    h.clock.advance(5_000);
    expect((await loop.tick()).reconciled).toBe(1);
    expect(await reconciled()).toBe(1);
    expect((await h.directory.heldWork()).map((slot) => slot.workKey)).toEqual(['not-ours']);
  });

  it('leaves a fresh reservation the store does not show yet (an assign before its commit) alone for the grace period', async () => {
    const h = await createHarness({ planner: oneAnalysis() });
    await h.agent('analyst-1', 'data_analyst');
    const { loop } = recoveryOf(h, { metrics: createMetrics(), slotGraceMs: 5_000 });
    await h.directory.reserve('analyst-1', 'not-committed-yet#1');
    await loop.tick();
    h.clock.advance(4_000);
    await loop.tick();
    expect((await h.directory.get('analyst-1'))!.load).toBe(1);
    h.clock.advance(2_000);
    await loop.tick();
    expect((await h.directory.get('analyst-1'))!.load).toBe(0);
  });
});

describe('an agent whose lease lapsed gets no new work until it shows it is alive', () => {
  it('sends the next subtask to the live agent, not to the one that stopped renewing', async () => {
    const h = await createHarness({ planner: oneAnalysis() });
    // One slot each, so the live agent is full with the re-dispatched work and the dead one is the only one free.
    await h.agent('analyst-1', 'data_analyst', { capacity: 1 });
    await h.agent('analyst-2', 'data_analyst', { capacity: 1 });
    const { loop, failures } = recoveryOf(h, { metrics: createMetrics(), slotGraceMs: 30_000 });
    const first = await h.start('first');
    const [dispatched] = await h.pump();
    const dead = dispatched!.data.agentId;
    const live = dead === 'analyst-1' ? 'analyst-2' : 'analyst-1';

    // The dead agent stops renewing; the live one keeps heartbeating.
    h.clock.advance(leaseTtlMs(h.config) + 100);
    await h.directory.heartbeat(live, h.clock.now());
    await loop.tick();
    const [lost] = await failures();
    expect(lost).toMatchObject({ data: { agentId: dead, cause: 'lease_expired' } });
    expect((await h.directory.get(dead))!.status).toBe('OFFLINE');

    // The lost work is re-dispatched to the live agent, which is now full.
    await h.run('complete', lost);
    const [again] = await h.pump();
    expect(again!.data.agentId).toBe(live);

    // The next subtask must not go to the dead agent: it waits for the live one.
    const second = await h.start('second');
    expect(await h.pump()).toEqual([]);
    expect((await h.subtasks(second.workflowId))[0]!.assignedAgent).toBeNull();

    await h.run('complete', h.completed(again!, 0.95));
    expect((await h.subtasks(first.workflowId))[0]!.status).toBe('completed');
    await loop.tick(); // the safety net re-kicks waiting work; here the freed slot's wake-up does it
    const next = await h.pump();
    expect(next.map((d) => d.data.agentId)).toEqual([live]);
  });

  it('lifts the verdict when the agent heartbeats again', async () => {
    const h = await createHarness({ planner: oneAnalysis() });
    await h.agent('analyst-1', 'data_analyst');
    const { loop } = recoveryOf(h, { metrics: createMetrics(), slotGraceMs: 30_000 });
    await h.start('one');
    await h.pump();
    h.clock.advance(leaseTtlMs(h.config) + 100);
    await loop.tick();
    expect((await h.directory.get('analyst-1'))!.status).toBe('OFFLINE');
    await h.directory.heartbeat('analyst-1', h.clock.now());
    expect((await h.directory.get('analyst-1'))!.status).not.toBe('OFFLINE');
  });
});

describe('work whose lease the lease store lost (Redis restarted without persistence)', () => {
  it('is reported lost once it has gone a lease TTL unchanged with no lease at all, and runs again', async () => {
    const h = await createHarness({ planner: oneAnalysis() });
    // The store stamps updated_at with the database's clock: the harness's clock starts there too.
    h.clock.advance(Math.max(0, Date.now() - h.clock.now()));
    await h.agent('analyst-1', 'data_analyst');
    await h.agent('analyst-2', 'data_analyst');
    const { loop, failures } = recoveryOf(h, { metrics: createMetrics() });
    const { workflowId } = await h.start('one subtask');
    const [dispatched] = await h.pump();
    const { subtaskId, leaseToken, agentId } = dispatched!.data;
    const key = leaseKeyOf(subtaskId);
    const ttl = leaseTtlMs(h.config);

    // Held for longer than a TTL, renewed as an agent does: not lost.
    h.clock.advance(ttl / 2);
    expect(await h.leases.renew(key, leaseToken, ttl)).toBe(true);
    h.clock.advance(ttl / 2 + 500);
    expect((await loop.tick()).unleased).toBe(0);
    expect(await failures()).toEqual([]);

    // The lease store forgets the lease: nothing is left to expire. The first sweep that misses it
    // leaves the agent a lease TTL to take it back; the next one reports it lost.
    expect(await h.leases.release(key, leaseToken)).toBe(true);
    expect(await h.leases.listExpired(h.clock.now() + 10 * ttl, 10)).toEqual([]);
    h.clock.advance(ttl);
    expect((await loop.tick()).unleased).toBe(0);
    h.clock.advance(ttl);
    expect((await loop.tick()).unleased).toBe(1);
    const [lost] = await failures();
    expect(lost).toMatchObject({ data: { subtaskId, leaseToken, agentId, cause: 'lease_expired' } });

    // Reported again by a later sweep, it is the same event: complete applies it once.
    h.clock.advance(ttl);
    expect((await loop.tick()).unleased).toBe(1);
    const [, again] = await failures();
    expect(again!.id).toBe(lost!.id);
    expect((await h.run('complete', lost)).status).toBe('applied');
    expect((await h.run('complete', again)).status).toBe('duplicate');

    // The work runs again under a new lease, and the sweep leaves it alone.
    const [redispatched] = await h.pump();
    expect(redispatched!.data).toMatchObject({ subtaskId, attempt: 2 });
    expect(redispatched!.data.leaseToken).toBeGreaterThan(leaseToken);
    h.clock.advance(ttl);
    expect((await loop.tick()).unleased).toBe(0);
    expect((await h.subtasks(workflowId))[0]).toMatchObject({ status: 'in_progress', attempts: 2 });
  });
});
