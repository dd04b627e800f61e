import { describe, expect, it } from 'vitest';
import { waitingOrderOf } from '../../shared/domain/scheduling.js';
import type { EventOf } from '../../shared/events/index.js';
import { createHarness, expectIdempotent, fixedPlanner, recordingSpawner, type HarnessOptions, type StepSpec } from '../../test/unit/helpers/fixture.js';

const twoRoots: StepSpec[] = [
  { key: 'a', specialty: 'data_analyst', phase: 'analysis' },
  { key: 'b', specialty: 'data_analyst', phase: 'analysis' },
];

/** A running workflow whose root subtasks are ready; returns their subtask.ready events (not yet assigned). */
async function readyWork(options: HarnessOptions = {}, steps: StepSpec[] = twoRoots.slice(0, 1)) {
  const h = await createHarness({ planner: fixedPlanner(steps), ...options });
  const { workflowId } = await h.start('analyse the data');
  const ready = (await h.take()).filter((e): e is EventOf<'subtask.ready'> => e.type === 'subtask.ready');
  return { h, workflowId, ready };
}

/** Gives an agent a finished task so its record has history (quality, success, duration). */
async function history(
  h: Awaited<ReturnType<typeof readyWork>>['h'],
  agentId: string,
  outcome: { success: boolean; quality: number; durationMs: number },
  n = 1,
) {
  for (let i = 0; i < n; i++) {
    const key = `history-${agentId}-${i}-${Math.random()}`;
    await h.directory.reserve(agentId, key);
    await h.directory.release(agentId, key, outcome);
  }
}

describe('assign', () => {
  it('picks the best agent by the spec score, reserves its slot and emits subtask.assigned', async () => {
    const { h, workflowId, ready } = await readyWork();
    await h.agent('analyst-poor', 'data_analyst');
    await h.agent('analyst-good', 'data_analyst');
    await h.agent('writer', 'content_writer_editor');
    await history(h, 'analyst-poor', { success: true, quality: 0.7, durationMs: 300_000 });
    await history(h, 'analyst-good', { success: true, quality: 0.97, durationMs: 30_000 });

    const event = ready[0]!;
    const result = await h.run('assign', event);
    expect(result.status).toBe('applied');
    const subtask = await h.subtask(event.data.subtaskId);
    expect(subtask).toMatchObject({ status: 'ready', assignedAgent: 'analyst-good', attempts: 0 });
    expect((await h.directory.get('analyst-good'))?.load).toBe(1);
    expect((await h.directory.get('analyst-poor'))?.load).toBe(0);
    expect((await h.outbox()).map((e) => [e.type, e.data])).toEqual([
      [
        'subtask.assigned',
        // The task rides along for dispatch (it depends on nothing), at the version this commit wrote.
        {
          workflowId,
          subtaskId: subtask.id,
          specialty: 'data_analyst',
          attempt: 1,
          agentId: 'analyst-good',
          carried: { subtaskVersion: subtask.version, task: expect.objectContaining({ title: subtask.title }) },
        },
      ],
    ]);
    await expectIdempotent(h, 'assign', event, workflowId);
    expect((await h.directory.get('analyst-good'))?.load).toBe(1);
  });

  it('skips FAILED / OFFLINE agents, stale heartbeats and agents at the failure threshold', async () => {
    const { h, ready } = await readyWork();
    await h.agent('failed', 'data_analyst');
    await h.agent('offline', 'data_analyst');
    await h.agent('flaky', 'data_analyst');
    await h.agent('stale', 'data_analyst');
    await h.directory.setStatus('failed', 'FAILED');
    await history(h, 'flaky', { success: false, quality: 0, durationMs: 1 }, h.config.ORCHESTRATION_AGENT_FAILURE_THRESHOLD);
    h.clock.advance(h.config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3000 + 1);
    for (const id of ['failed', 'offline', 'flaky']) await h.directory.heartbeat(id, h.clock.now());
    // Declared OFFLINE after its last heartbeat (a heartbeat would prove it alive again).
    await h.directory.setStatus('offline', 'OFFLINE');
    await h.agent('healthy', 'data_analyst', { capacity: 1 });
    // 'healthy' is the worst by score (no history, capacity 1) but the only one that may work.
    expect((await h.run('assign', ready[0]!)).status).toBe('applied');
    expect((await h.subtask(ready[0]!.data.subtaskId)).assignedAgent).toBe('healthy');
  });

  it('gives an agent benched by failures one probation task at a time, only when nobody healthy is free', async () => {
    const { h, ready } = await readyWork({}, twoRoots);
    await h.agent('flaky', 'data_analyst');
    await history(h, 'flaky', { success: false, quality: 0, durationMs: 1 }, h.config.ORCHESTRATION_AGENT_FAILURE_THRESHOLD);
    const [a, b] = ready as [EventOf<'subtask.ready'>, EventOf<'subtask.ready'>];
    await h.run('assign', a);
    expect((await h.subtask(a.data.subtaskId)).assignedAgent).toBe('flaky');
    // One probation task at a time: the second waits.
    expect((await h.run('assign', b)).status).toBe('skipped');
    expect((await h.subtask(b.data.subtaskId)).assignedAgent).toBeNull();
    // A healthy agent is preferred over probation.
    await h.agent('steady', 'data_analyst');
    const again = { ...b, id: `${b.id}-again` };
    await h.run('assign', again);
    expect((await h.subtask(b.data.subtaskId)).assignedAgent).toBe('steady');
  });

  it("never assigns a tenant's work to another tenant's agent, even the only free one: it waits for its own or a shared agent", async () => {
    const { h, workflowId, ready } = await readyWork();
    expect((await h.workflow(workflowId)).tenant).toBe('default');
    await h.agent('beta-analyst', 'data_analyst', { tenant: 'beta' });
    const event = ready[0]!;
    expect((await h.run('assign', event)).status).toBe('skipped');
    expect((await h.subtask(event.data.subtaskId)).assignedAgent).toBeNull();
    expect((await h.directory.get('beta-analyst'))?.load).toBe(0);
    expect((await h.outbox()).filter((e) => e.type === 'subtask.assigned')).toEqual([]);

    await h.agent('shared-analyst', 'data_analyst');
    await h.run('assign', { ...event, id: `${event.id}-shared` });
    expect((await h.subtask(event.data.subtaskId)).assignedAgent).toBe('shared-analyst');
    expect((await h.directory.get('beta-analyst'))?.load).toBe(0);
  });

  it("takes the tenant's own agent rather than a shared one", async () => {
    const { h, ready } = await readyWork();
    await h.agent('shared-analyst', 'data_analyst');
    await history(h, 'shared-analyst', { success: true, quality: 1, durationMs: 1000 });
    await h.agent('own-analyst', 'data_analyst', { tenant: 'default', capacity: 1 });
    await h.run('assign', ready[0]!);
    expect((await h.subtask(ready[0]!.data.subtaskId)).assignedAgent).toBe('own-analyst');
  });

  it('uses an excluded (previous) agent only when nothing else is free', async () => {
    const { h, ready } = await readyWork({}, twoRoots);
    await h.agent('previous', 'data_analyst', { capacity: 1 });
    await h.agent('other', 'data_analyst', { capacity: 1 });
    await history(h, 'previous', { success: true, quality: 1, durationMs: 1000 });
    const [a, b] = ready as [EventOf<'subtask.ready'>, EventOf<'subtask.ready'>];
    await h.run('assign', { ...a, data: { ...a.data, excludeAgents: ['previous'] } });
    expect((await h.subtask(a.data.subtaskId)).assignedAgent).toBe('other');
    await h.run('assign', { ...b, data: { ...b.data, excludeAgents: ['previous'] } });
    expect((await h.subtask(b.data.subtaskId)).assignedAgent).toBe('previous');
  });

  it('respects ORCHESTRATION_MAX_TASKS_PER_AGENT: no free slot leaves the subtask ready, unassigned, and emits nothing', async () => {
    const { h, workflowId, ready } = await readyWork({ config: { ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 } }, twoRoots);
    await h.agent('only', 'data_analyst', { capacity: 5 });
    await h.run('assign', ready[0]!);
    await h.take();
    const result = await h.run('assign', ready[1]!);
    expect(result.status).toBe('skipped');
    expect(await h.subtask(ready[1]!.data.subtaskId)).toMatchObject({ status: 'ready', assignedAgent: null });
    expect(await h.outbox()).toEqual([]);
    expect((await h.directory.get('only'))?.load).toBe(1);
    expect((await h.store.findWaitingSubtasks(['data_analyst'], 10, waitingOrderOf(h.config, h.clock.now()))).map((s) => s.id)).toEqual([
      ready[1]!.data.subtaskId,
    ]);
    expect((await h.workflow(workflowId)).status).toBe('running');
  });

  it('lets a waiting re-run take a freed slot before work that never ran: the new work wakes the re-run and waits', async () => {
    const { h, ready } = await readyWork({ config: { ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 } }, twoRoots);
    await h.agent('only', 'data_analyst', { capacity: 1 });
    const [a, b] = ready as [EventOf<'subtask.ready'>, EventOf<'subtask.ready'>];
    await h.run('assign', a);
    const [dispatched] = (await h.pump()).filter((d) => d.data.subtaskId === a.data.subtaskId);
    // a is lost (its lease expired): it is a re-run now, waiting, and the agent's slot is free again.
    await h.run('complete', h.failed(dispatched!, 'lease_expired'));
    await h.take();
    expect(await h.subtask(a.data.subtaskId)).toMatchObject({ status: 'ready', attempts: 1, assignedAgent: null });

    // b's (older) subtask.ready arrives first: b does not take the slot, it wakes a.
    const result = await h.run('assign', b);
    expect(result.status).toBe('skipped');
    expect(await h.subtask(b.data.subtaskId)).toMatchObject({ status: 'ready', attempts: 0, assignedAgent: null });
    const [wake] = await h.outbox('subtask.ready');
    expect(wake?.data).toMatchObject({ subtaskId: a.data.subtaskId, attempt: 2 });
    await h.take();
    await h.run('assign', wake);
    expect(await h.subtask(a.data.subtaskId)).toMatchObject({ assignedAgent: 'only' });
  });

  it('spawns an agent when none is free and the pool allows, and reserves it', async () => {
    const spawner = recordingSpawner();
    const { h, ready } = await readyWork({ spawner });
    const result = await h.run('assign', ready[0]!);
    expect(result.status).toBe('applied');
    expect(spawner.calls).toHaveLength(1);
    expect(spawner.calls[0]!.specialty).toBe('data_analyst');
    const agentId = (await h.subtask(ready[0]!.data.subtaskId)).assignedAgent;
    expect(agentId).toBe(spawner.calls[0]!.agentId);
    expect(await h.directory.get(agentId!)).toMatchObject({ specialties: ['data_analyst'], load: 1 });
  });

  it('does not spawn past ORCHESTRATION_MAX_AGENTS_PER_POOL', async () => {
    const spawner = recordingSpawner();
    const { h, ready } = await readyWork({ spawner, config: { ORCHESTRATION_MAX_AGENTS_PER_POOL: 1, ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 } }, twoRoots);
    await h.agent('busy', 'data_analyst');
    h.clock.advance(10_000); // outside the spawn-rate window
    await h.directory.heartbeat('busy', h.clock.now());
    await h.run('assign', ready[0]!);
    expect((await h.run('assign', ready[1]!)).status).toBe('skipped');
    expect(spawner.calls).toEqual([]);
  });

  it('does not spawn past ORCHESTRATION_MAX_TOTAL_AGENTS', async () => {
    const spawner = recordingSpawner();
    const { h, ready } = await readyWork({ spawner, config: { ORCHESTRATION_MAX_TOTAL_AGENTS: 2 } });
    await h.agent('writer', 'content_writer_editor');
    await h.agent('researcher', 'academic_researcher');
    h.clock.advance(10_000);
    expect((await h.run('assign', ready[0]!)).status).toBe('skipped');
    expect(spawner.calls).toEqual([]);
  });

  it('limits spawning to ORCHESTRATION_MAX_AGENT_SPAWN_RATE per second', async () => {
    const spawner = recordingSpawner({ capacity: 1 });
    const steps: StepSpec[] = ['a', 'b', 'c'].map((key) => ({ key, specialty: 'data_analyst', phase: 'analysis' }));
    const { h, ready } = await readyWork({ spawner, config: { ORCHESTRATION_MAX_AGENT_SPAWN_RATE: 2, ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 } }, steps);
    const [a, b, c] = ready as [EventOf<'subtask.ready'>, EventOf<'subtask.ready'>, EventOf<'subtask.ready'>];
    expect((await h.run('assign', a)).status).toBe('applied');
    expect((await h.run('assign', b)).status).toBe('applied');
    expect((await h.run('assign', c)).status).toBe('skipped');
    expect(spawner.calls).toHaveLength(2);
    h.clock.advance(1001);
    const retry = { ...c, id: `${c.id}-later` };
    expect((await h.run('assign', retry)).status).toBe('applied');
    expect(spawner.calls).toHaveLength(3);
  });

  it('honours a spawn rate below one per second (0.5/s allows one spawn per 2 s)', async () => {
    const spawner = recordingSpawner({ capacity: 1 });
    const { h, ready } = await readyWork({ spawner, config: { ORCHESTRATION_MAX_AGENT_SPAWN_RATE: 0.5, ORCHESTRATION_MAX_TASKS_PER_AGENT: 1 } }, twoRoots);
    await h.run('assign', ready[0]!);
    expect(spawner.calls).toHaveLength(1);
    h.clock.advance(1500);
    expect((await h.run('assign', ready[1]!)).status).toBe('skipped');
    expect(spawner.calls).toHaveLength(1);
  });

  it('leaves the subtask waiting when the spawner refuses', async () => {
    const spawner = recordingSpawner({ refuse: true });
    const { h, ready } = await readyWork({ spawner });
    expect((await h.run('assign', ready[0]!)).status).toBe('skipped');
    expect(spawner.calls).toHaveLength(1);
    expect(await h.subtask(ready[0]!.data.subtaskId)).toMatchObject({ status: 'ready', assignedAgent: null });
    expect(await h.outbox()).toEqual([]);
  });

  it('assigns nothing while the workflow is paused', async () => {
    const { h, workflowId, ready } = await readyWork();
    await h.agent('analyst', 'data_analyst');
    const workflow = await h.workflow(workflowId);
    await h.store.commit({
      consumer: 'test',
      eventId: 'pause-1',
      workflowUpdates: [{ id: workflowId, expectedVersion: workflow.version, patch: { status: 'paused' } }],
    });
    const result = await h.run('assign', ready[0]!);
    expect(result).toMatchObject({ status: 'skipped', outcome: { skipped: 'workflow is paused' } });
    expect(await h.subtask(ready[0]!.data.subtaskId)).toMatchObject({ status: 'ready', assignedAgent: null });
    expect((await h.directory.get('analyst'))?.load).toBe(0);
    expect(await h.outbox()).toEqual([]);
  });

  it('ignores a subtask.ready for another attempt or an already assigned subtask', async () => {
    const { h, ready } = await readyWork();
    await h.agent('analyst', 'data_analyst');
    const event = ready[0]!;
    // Another attempt's event (from elsewhere: it carries no state of this attempt's row).
    const { carried, ...data } = event.data;
    expect(carried, 'decompose carries the row state').toBeDefined();
    expect((await h.run('assign', { ...event, id: `${event.id}-x`, data: { ...data, attempt: 2 } })).status).toBe('skipped');
    await h.run('assign', event);
    await h.take();
    // The same event again under another id: its carried version is stale, so assign reads and skips it.
    expect((await h.run('assign', { ...event, id: `${event.id}-y` })).status).toBe('skipped');
    expect((await h.directory.get('analyst'))?.load).toBe(1);
    expect(await h.outbox()).toEqual([]);
  });
});
