import { describe, expect, it } from 'vitest';
import { NotFoundError, isRetriable } from '../../shared/errors.js';
import { makeEvent, taskSubmitted } from '../../shared/events/index.js';
import type { Planner } from '../../shared/ports/index.js';
import { createHarness, expectIdempotent, fixedPlanner, uniqueId } from '../../test/unit/helpers/fixture.js';
import { control } from '../control/handler.js';
import { decompose } from './handler.js';

const request = 'Research AI market trends and create presentation';

describe('decompose', () => {
  it('stores the plan, makes the roots ready and emits workflow.decomposed and subtask.ready for them only', async () => {
    const h = await createHarness();
    const { workflowId, result } = await h.start(request);
    expect(result.status).toBe('applied');

    const workflow = await h.workflow(workflowId);
    expect(workflow.status).toBe('running');
    expect(['MODERATE', 'COMPLEX']).toContain(workflow.complexity);
    expect(workflow.plan?.complexity).toBe(workflow.complexity);

    const subtasks = await h.subtasks(workflowId);
    expect(subtasks.map((s) => s.id)).toEqual(workflow.plan?.subtasks.map((s) => s.id));
    const roots = subtasks.filter((s) => s.dependsOn.length === 0);
    expect(roots.length).toBeGreaterThan(0);
    for (const s of subtasks) {
      expect(s.status).toBe(s.dependsOn.length === 0 ? 'ready' : 'pending');
      expect(s).toMatchObject({ attempts: 0, assignedAgent: null, leaseToken: null, version: 1 });
    }

    const emitted = await h.outbox();
    expect(emitted[0]).toMatchObject({
      type: 'workflow.decomposed',
      data: { workflowId, complexity: workflow.complexity, subtaskIds: subtasks.map((s) => s.id), estimatedHours: workflow.plan?.estimatedHours },
    });
    const ready = emitted.filter((e) => e.type === 'subtask.ready');
    // Each carries its row as the commit wrote it (version, tenant) and, a root having no inputs, its
    // task: assign needs no read and hands the task on to dispatch.
    const carried = (s: (typeof roots)[number]) => ({
      subtaskVersion: 1,
      tenant: workflow.tenant,
      task: {
        title: s.title,
        description: s.description,
        successCriteria: s.successCriteria,
        estimatedMinutes: s.estimatedMinutes,
        workflowCreatedAt: workflow.createdAt,
      },
    });
    expect(ready.map((e) => e.data)).toEqual(
      roots.map((s) => ({ workflowId, subtaskId: s.id, specialty: s.specialty, attempt: 1, excludeAgents: [], carried: carried(s) })),
    );
    expect(emitted).toHaveLength(1 + roots.length);
  });

  it('is idempotent: the same task.submitted twice plans once', async () => {
    const h = await createHarness();
    const event = await h.submit(request);
    await h.run('decompose', event);
    await expectIdempotent(h, 'decompose', event, event.data.workflowId);
  });

  it('fails the workflow with workflow.failed when the planner throws', async () => {
    const broken: Planner = { plan: () => Promise.reject(new Error('model unavailable')) };
    const h = await createHarness({ planner: broken });
    const { workflowId, result } = await h.start(request);
    expect(result.status).toBe('applied');
    const workflow = await h.workflow(workflowId);
    expect(workflow.status).toBe('failed');
    expect(workflow.failureReason).toContain('model unavailable');
    expect(workflow.completedAt).not.toBeNull();
    expect(await h.subtasks(workflowId)).toEqual([]);
    expect((await h.outbox()).map((e) => [e.type, e.data])).toEqual([['workflow.failed', { workflowId, reason: workflow.failureReason }]]);
  });

  it('fails with a timeout reason when the planner is slower than ORCHESTRATION_DECOMPOSITION_TIMEOUT', async () => {
    const slow: Planner = {
      plan: (req) =>
        new Promise((resolve) => setTimeout(() => resolve(fixedPlanner([{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }]).plan(req)), 400)),
    };
    const h = await createHarness({ planner: slow, config: { ORCHESTRATION_DECOMPOSITION_TIMEOUT: 0.05 } });
    const started = performance.now();
    const { workflowId } = await h.start(request);
    expect(performance.now() - started).toBeLessThan(350);
    const workflow = await h.workflow(workflowId);
    expect(workflow.status).toBe('failed');
    expect(workflow.failureReason).toMatch(/longer than 0\.05s/);
    expect(await h.outbox('workflow.failed')).toHaveLength(1);
  });

  it('honours ORCHESTRATION_MAX_SUBTASKS: the planner is asked for at most that many and a larger plan fails', async () => {
    const h = await createHarness({ config: { ORCHESTRATION_MAX_SUBTASKS: 3 } });
    const { workflowId } = await h.start('Comprehensive enterprise competitive analysis with detailed market research and an executive presentation');
    expect(await h.subtasks(workflowId)).toHaveLength(3);
    expect((await h.workflow(workflowId)).status).toBe('running');

    const oversized = fixedPlanner(['a', 'b', 'c'].map((key) => ({ key, specialty: 'data_analyst' as const, phase: 'analysis' as const })));
    const g = await createHarness({ planner: oversized, config: { ORCHESTRATION_MAX_SUBTASKS: 2 } });
    const { workflowId: big } = await g.start(request);
    expect(await g.workflow(big)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/3 subtasks, limit is 2/) });
    expect(await g.subtasks(big)).toEqual([]);
  });

  it('throws a non-retriable NotFoundError for an unknown workflow', async () => {
    const h = await createHarness();
    const event = makeEvent(
      taskSubmitted,
      { workflowId: uniqueId('ghost'), description: request, priority: 'NORMAL', metadata: {}, requireApproval: false },
      h.context,
    );
    const outcome = h.run('decompose', event);
    await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
    await expect(outcome.catch((e: unknown) => isRetriable(e))).resolves.toBe(false);
  });

  it('plans a workflow paused before planning and keeps it paused', async () => {
    const h = await createHarness();
    const event = await h.submit(request);
    const { workflowId } = event.data;
    const pending = await h.workflow(workflowId);
    await h.store.commit({
      consumer: 'test',
      eventId: uniqueId('pause'),
      workflowUpdates: [{ id: workflowId, expectedVersion: pending.version, patch: { status: 'paused' } }],
    });

    expect((await h.run('decompose', event)).status).toBe('applied');
    const workflow = await h.workflow(workflowId);
    expect(workflow.status).toBe('paused');
    expect(workflow.plan).not.toBeNull();
    expect((await h.subtasks(workflowId)).length).toBeGreaterThan(0);
  });

  it('still plans a workflow paused and resumed before decompose ran', async () => {
    const h = await createHarness();
    const event = await h.submit(request);
    const { workflowId } = event.data;
    for (const command of ['pause', 'resume'] as const) {
      const outcome = await control(command, workflowId, uniqueId(command), h.ports);
      await h.store.commit({ consumer: 'api', eventId: uniqueId(command), ...outcome.change });
    }
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'running', plan: null });
    await h.run('decompose', event);
    expect((await h.workflow(workflowId)).plan).not.toBeNull();
    expect((await h.subtasks(workflowId)).length).toBeGreaterThan(0);
  });

  it('does nothing for a workflow that is already planned or finished', async () => {
    const h = await createHarness();
    const event = await h.submit(request);
    await h.run('decompose', event);
    await h.take();
    const workflow = await h.workflow(event.data.workflowId);
    // A new event id for the same workflow (a re-submission) must not plan it twice.
    const again = makeEvent(taskSubmitted, event.data, h.context);
    const outcome = await decompose(again as typeof event, h.ports);
    expect(outcome).toMatchObject({ change: {}, emit: [], skipped: expect.stringContaining('running') });
    expect(await h.workflow(event.data.workflowId)).toEqual(workflow);
  });
});
