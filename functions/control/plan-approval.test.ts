import { describe, expect, it } from 'vitest';
import type { Config } from '../../shared/config.js';
import { approvalStageOf, type ApprovalStage } from '../../shared/domain/approval.js';
import { allSpecialties } from '../../shared/domain/vocabulary.js';
import { waitingOrderOf } from '../../shared/domain/scheduling.js';
import { isoTime, makeEvent, subtaskReady, taskSubmitted, type EventOf, type OrchestrationEvent } from '../../shared/events/index.js';
import type { Planner } from '../../shared/ports/index.js';
import { toOutbox } from '../../shared/engine/process-event.js';
import { reclaimLostWork } from '../../shared/engine/resume.js';
import { createHarness, fixedPlanner, uniqueId, type Harness, type StepSpec } from '../../test/unit/helpers/fixture.js';
import { orchestratorId } from '../common/hierarchy.js';
import { control, InvalidTransitionError, type ControlCommand } from './handler.js';

/** a (research) → b (production): one root, one dependent. */
const steps: StepSpec[] = [
  { key: 'a', specialty: 'web_intelligence_gatherer', phase: 'research' },
  { key: 'b', specialty: 'content_writer_editor', phase: 'production', deps: ['a'] },
];

/** The fixed plan, marked as the planner marks a risky one. */
const riskyPlanner = (approvalRequired = true): Planner => ({
  plan: async (request) => ({ ...(await fixedPlanner(steps).plan(request)), risk: 'critical', approvalRequired }),
});

type Mode = Config['ORCHESTRATION_PLAN_APPROVAL'];

async function harness(mode: Mode, approvalRequired = true): Promise<Harness> {
  const h = await createHarness({ planner: riskyPlanner(approvalRequired), config: { ORCHESTRATION_PLAN_APPROVAL: mode } });
  await h.agent('researcher', 'web_intelligence_gatherer');
  await h.agent('writer', 'content_writer_editor');
  await h.directory.register({ id: 'qs', layer: 'EXECUTIVE', role: 'quality_supervisor', specialties: [], capacity: 5, demo: false }, h.clock.now());
  return h;
}

/** Creates the workflow as the API does (requireApproval lands in metadata), maybe pauses it first, then decomposes. */
async function start(h: Harness, options: { requireApproval?: boolean; pausedFirst?: boolean } = {}): Promise<string> {
  const workflowId = uniqueId();
  const requireApproval = options.requireApproval ?? false;
  const event = makeEvent(
    taskSubmitted,
    { workflowId, description: 'Investigate security incident in production database', priority: 'HIGH', metadata: {}, requireApproval },
    h.context,
  );
  await h.store.createWorkflow(
    {
      id: workflowId,
      description: event.data.description,
      priority: 'HIGH',
      metadata: requireApproval ? { requireApproval: true } : {},
      idempotencyKey: null,
      createdAt: isoTime(h.clock.now()),
    },
    toOutbox([event as OrchestrationEvent]),
  );
  await h.take();
  if (options.pausedFirst) await command(h, 'pause', workflowId);
  await h.run('decompose', event);
  return workflowId;
}

/** Runs a command as the API does: the handler, then one commit keyed by the command id. */
async function command(h: Harness, name: ControlCommand, workflowId: string, stage?: ApprovalStage, reason?: string) {
  const commandId = `${name}:${uniqueId('cmd')}`;
  const outcome = await control(name, workflowId, commandId, h.ports, reason ?? (name === 'reject' ? 'too risky' : undefined), stage);
  await h.store.commit({ consumer: 'api', eventId: commandId, ...outcome.change, outbox: toOutbox(outcome.emit) });
  return outcome;
}

/** Passes every dispatched subtask until nothing more is dispatched or the workflow stops running; what that emitted stays in the outbox. */
async function passAll(h: Harness, workflowId: string): Promise<number> {
  let passed = 0;
  for (let round = 0; round < 10; round++) {
    const dispatched = await h.pump();
    for (const d of dispatched) await h.run('complete', h.completed(d, 0.95));
    passed += dispatched.length;
    if (dispatched.length === 0 || (await h.workflow(workflowId)).status !== 'running') return passed;
  }
  throw new Error('still dispatching after 10 rounds');
}

const approvalRequests = (events: OrchestrationEvent[]) =>
  events.filter((e): e is EventOf<'agent.message'> => e.type === 'agent.message' && e.data.messageType === 'APPROVAL_REQUEST').map((e) => e.data);

const stageOf = async (h: Harness, workflowId: string) => approvalStageOf(await h.workflow(workflowId), await h.subtasks(workflowId));

describe('plan approval BEFORE_EXECUTION (the default)', () => {
  it('stores the plan and subtasks, waits in awaiting_approval without subtask.ready, asks the executive; approve starts it and it completes', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h);

    expect(await h.workflow(workflowId)).toMatchObject({ status: 'awaiting_approval', plan: expect.objectContaining({ approvalRequired: true }) });
    expect((await h.subtasks(workflowId)).map((s) => [s.id, s.status])).toEqual([
      [`${workflowId}.a`, 'ready'],
      [`${workflowId}.b`, 'pending'],
    ]);
    expect(await stageOf(h, workflowId)).toBe('plan');
    const emitted = await h.take();
    expect(emitted.map((e) => e.type)).toEqual(['workflow.decomposed', 'agent.message']);
    expect(emitted[0]!.data).toMatchObject({ approvalRequired: true, risk: 'critical' });
    expect(approvalRequests(emitted)).toEqual([
      expect.objectContaining({
        senderId: orchestratorId,
        recipientId: 'qs',
        priority: 'HIGH',
        payload: expect.objectContaining({ stage: 'plan', workflowId, risk: 'critical', subtaskCount: 2, approve: `/v1/workflows/${workflowId}/approve` }),
      }),
    ]);
    // Nothing is dispatched while it waits, not even a stray subtask.ready (assign checks the status).
    expect(await passAll(h, workflowId)).toBe(0);
    const stray = makeEvent(
      subtaskReady,
      { workflowId, subtaskId: `${workflowId}.a`, specialty: 'web_intelligence_gatherer', attempt: 1, excludeAgents: [] },
      h.context,
    );
    expect(await h.run('assign', stray)).toMatchObject({ status: 'skipped' });
    expect((await h.directory.get('researcher'))?.load).toBe(0);

    const approved = await command(h, 'approve', workflowId);
    expect(approved.emit.map((e) => [e.type, e.data])).toEqual([
      ['subtask.ready', { workflowId, subtaskId: `${workflowId}.a`, specialty: 'web_intelligence_gatherer', attempt: 1, excludeAgents: [] }],
    ]);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'running' });
    expect(await passAll(h, workflowId)).toBe(2);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'completed' });
    // The plan's approval is its only one: the finished work is delivered without a second wait.
    expect(approvalRequests(await h.take())).toEqual([]);

    expect(await command(h, 'approve', workflowId)).toMatchObject({ emit: [], skipped: 'workflow is already completed' });
    expect(await command(h, 'approve', workflowId, 'plan')).toMatchObject({ emit: [], skipped: 'workflow is already completed' });
    await expect(command(h, 'reject', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it('a repeated approve while the approved plan runs changes nothing', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h);
    await command(h, 'approve', workflowId);
    const again = await command(h, 'approve', workflowId);
    expect(again).toMatchObject({ emit: [], skipped: 'workflow is already running' });
    expect(again.change).toEqual({});
  });

  it('reject fails it before anything ran: subtasks cancelled, workflow.failed; repeated reject is a no-op, approve a 409', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h);
    await h.take();
    const rejected = await command(h, 'reject', workflowId, 'plan', 'too risky');
    expect(rejected.emit.map((e) => [e.type, e.data])).toEqual([['workflow.failed', { workflowId, reason: 'rejected at approval: too risky' }]]);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'failed', failureReason: 'rejected at approval: too risky', completedAt: expect.any(String) });
    expect((await h.subtasks(workflowId)).map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    expect(await passAll(h, workflowId)).toBe(0);
    expect(await command(h, 'reject', workflowId)).toMatchObject({ emit: [], skipped: 'workflow is already failed' });
    await expect(command(h, 'approve', workflowId)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('pause and resume do not apply while it waits (409); cancel does', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h);
    await expect(command(h, 'pause', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(command(h, 'resume', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
    expect((await h.workflow(workflowId)).status).toBe('awaiting_approval');
    const cancelled = await command(h, 'cancel', workflowId);
    expect(cancelled.emit.map((e) => e.type)).toEqual(['workflow.cancelled']);
    expect((await h.subtasks(workflowId)).map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    await expect(command(h, 'approve', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it('a workflow paused before it was planned waits for approval too (approval outranks the pause); approve starts it', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h, { pausedFirst: true });
    expect((await h.workflow(workflowId)).status).toBe('awaiting_approval');
    await command(h, 'approve', workflowId);
    expect((await h.workflow(workflowId)).status).toBe('running');
    expect(await passAll(h, workflowId)).toBe(2);
  });

  it('neither the recovery loop nor a restart dispatches its work', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h);
    const waiting = await h.store.findWaitingSubtasks(allSpecialties, 50, waitingOrderOf(h.config, h.clock.now() + 3_600_000));
    expect(waiting.filter((s) => s.workflowId === workflowId)).toEqual([]);
    expect(reclaimLostWork(await h.workflow(workflowId), await h.subtasks(workflowId), 'boot:1', h.ports)).toBeNull();
  });

  it('a plan that does not ask for approval runs at once', async () => {
    const h = await harness('BEFORE_EXECUTION', false);
    const workflowId = await start(h);
    expect((await h.workflow(workflowId)).status).toBe('running');
    expect(await passAll(h, workflowId)).toBe(2);
    expect((await h.workflow(workflowId)).status).toBe('completed');
  });

  it('with requireApproval as well, the plan and then the delivery wait; an approval meant for the plan cannot approve the delivery', async () => {
    const h = await harness('BEFORE_EXECUTION');
    const workflowId = await start(h, { requireApproval: true });
    expect(approvalRequests(await h.take()).map((m) => m.payload.stage)).toEqual(['plan']);
    await expect(command(h, 'approve', workflowId, 'delivery')).rejects.toThrow(/cannot approve the delivery of a workflow awaiting plan approval/);
    await command(h, 'approve', workflowId, 'plan');
    await passAll(h, workflowId);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'awaiting_approval' });
    expect(await stageOf(h, workflowId)).toBe('delivery');
    expect(approvalRequests(await h.take()).map((m) => m.payload)).toEqual([expect.objectContaining({ stage: 'delivery', workflowId, subtaskCount: 2 })]);

    // A late answer to the plan's request (the executive's, say) is recognised as already decided.
    expect(await command(h, 'approve', workflowId, 'plan')).toMatchObject({
      emit: [],
      skipped: 'the plan is already approved; the workflow awaits delivery approval',
    });
    await expect(command(h, 'reject', workflowId, 'plan')).rejects.toBeInstanceOf(InvalidTransitionError);
    expect((await h.workflow(workflowId)).status).toBe('awaiting_approval');
    const delivered = await command(h, 'approve', workflowId, 'delivery');
    expect(delivered.emit.map((e) => e.type)).toEqual(['workflow.completed']);
    expect((await h.workflow(workflowId)).status).toBe('completed');
  });
});

describe('plan approval BEFORE_DELIVERY', () => {
  it('runs the plan at once and holds the finished work for approval, as requireApproval does', async () => {
    const h = await harness('BEFORE_DELIVERY');
    const workflowId = await start(h);
    expect((await h.workflow(workflowId)).status).toBe('running');
    expect(approvalRequests(await h.outbox())).toEqual([]);
    expect(await passAll(h, workflowId)).toBe(2);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'awaiting_approval', completedAt: null });
    expect(await stageOf(h, workflowId)).toBe('delivery');
    const emitted = await h.take();
    expect(emitted.filter((e) => e.type === 'workflow.completed')).toEqual([]);
    expect(approvalRequests(emitted)).toEqual([
      expect.objectContaining({
        recipientId: 'qs',
        payload: expect.objectContaining({ stage: 'delivery', workflowId, subtaskCount: 2, averageQuality: 0.95 }),
      }),
    ]);

    await expect(command(h, 'approve', workflowId, 'plan')).rejects.toBeInstanceOf(InvalidTransitionError);
    const approved = await command(h, 'approve', workflowId);
    expect(approved.emit.map((e) => [e.type, e.data])).toEqual([['workflow.completed', { workflowId, subtaskCount: 2, averageQuality: 0.95 }]]);
    expect(await command(h, 'approve', workflowId)).toMatchObject({ emit: [], skipped: 'workflow is already completed' });
  });

  it('a plan that does not ask for approval is delivered at once', async () => {
    const h = await harness('BEFORE_DELIVERY', false);
    const workflowId = await start(h);
    await passAll(h, workflowId);
    expect((await h.workflow(workflowId)).status).toBe('completed');
  });
});

describe('plan approval OFF', () => {
  it('ignores the plan flag', async () => {
    const h = await harness('OFF');
    const workflowId = await start(h);
    expect((await h.workflow(workflowId)).status).toBe('running');
    await passAll(h, workflowId);
    expect((await h.workflow(workflowId)).status).toBe('completed');
    expect(approvalRequests(await h.take())).toEqual([]);
    await expect(command(h, 'approve', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it('still honours requireApproval at delivery', async () => {
    const h = await harness('OFF');
    const workflowId = await start(h, { requireApproval: true });
    await passAll(h, workflowId);
    expect((await h.workflow(workflowId)).status).toBe('awaiting_approval');
    expect(await stageOf(h, workflowId)).toBe('delivery');
  });
});

describe('approvalStageOf', () => {
  const done = { status: 'completed' } as const;
  it('is null unless the workflow awaits approval; delivery once every subtask completed, else plan', () => {
    expect(approvalStageOf({ status: 'running' }, [done])).toBeNull();
    expect(approvalStageOf({ status: 'awaiting_approval' }, [done, done])).toBe('delivery');
    expect(approvalStageOf({ status: 'awaiting_approval' }, [done, { status: 'pending' }])).toBe('plan');
    expect(approvalStageOf({ status: 'awaiting_approval' }, [{ status: 'ready' }])).toBe('plan');
  });
});
