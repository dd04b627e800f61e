import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAgentToken } from '../../shared/messaging/message-auth.js';
import { startEmbedded, terminal, type Embedded, type WorkflowBody } from './helpers/embedded.js';
import { control, InvalidTransitionError } from '../../functions/index.js';
import { orchestratorId } from '../../functions/index.js';
import {
  agentLost,
  agentMessage,
  isoTime,
  makeEvent,
  subtaskReady,
  taskSubmitted,
  topics,
  type EventOf,
  type OrchestrationEvent,
} from '../../shared/events/index.js';
import { toOutbox } from '../../shared/engine/process-event.js';
import { createHarness, fixedPlanner, uniqueId, type Harness, type StepSpec } from './helpers/fixture.js';

type Message = EventOf<'agent.message'>['data'];

const oneStep: StepSpec[] = [{ key: 'a', specialty: 'data_analyst', phase: 'analysis' }];
const twoSteps: StepSpec[] = [...oneStep, { key: 'b', specialty: 'content_writer_editor', phase: 'production', deps: ['a'] }];

/** Submits as the API does with requireApproval (the flag lands in the workflow's metadata) and decomposes. */
async function startApproval(h: Harness, requireApproval = true): Promise<string> {
  const workflowId = uniqueId();
  const event = makeEvent(taskSubmitted, { workflowId, description: 'needs sign-off', priority: 'HIGH', metadata: {}, requireApproval }, h.context);
  await h.store.createWorkflow(
    {
      id: workflowId,
      description: 'needs sign-off',
      priority: 'HIGH',
      metadata: requireApproval ? { requireApproval: true } : {},
      idempotencyKey: null,
      createdAt: isoTime(h.clock.now()),
    },
    toOutbox([event as OrchestrationEvent]),
  );
  await h.take();
  await h.run('decompose', event);
  return workflowId;
}

/** Runs every dispatched subtask to a passing result until the workflow stops running; what that emitted stays in the outbox. */
async function passAll(h: Harness, workflowId: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    for (const d of await h.pump()) await h.run('complete', h.completed(d, 0.95));
    if ((await h.workflow(workflowId)).status !== 'running') return;
  }
  throw new Error('the workflow kept running');
}

const messages = (events: OrchestrationEvent[]): Message[] =>
  events.filter((e): e is EventOf<'agent.message'> => e.type === 'agent.message').map((e) => e.data);

async function decide(h: Harness, command: 'approve' | 'reject', workflowId: string, reason?: string) {
  const commandId = `${command}:${uniqueId('cmd')}`;
  const outcome = await control(command, workflowId, commandId, h.ports, reason);
  await h.store.commit({ consumer: 'api', eventId: commandId, ...outcome.change, outbox: toOutbox(outcome.emit) });
  return outcome;
}

describe('approval before delivery', () => {
  it('holds a requireApproval workflow in awaiting_approval, asks the quality supervisor, and completes on approve (once)', async () => {
    const h = await createHarness({ planner: fixedPlanner(twoSteps) });
    await h.agent('analyst', 'data_analyst');
    await h.agent('writer', 'content_writer_editor');
    await h.directory.register({ id: 'coordinator', layer: 'EXECUTIVE', role: 'task_coordinator', specialties: [], capacity: 5, demo: false }, h.clock.now());
    await h.directory.register({ id: 'qs', layer: 'EXECUTIVE', role: 'quality_supervisor', specialties: [], capacity: 5, demo: false }, h.clock.now());
    const workflowId = await startApproval(h);
    await passAll(h, workflowId);

    expect((await h.workflow(workflowId)).status).toBe('awaiting_approval');
    const emitted = await h.take();
    expect(emitted.filter((e) => e.type === 'workflow.completed')).toEqual([]);
    expect(messages(emitted)).toEqual([
      expect.objectContaining({
        senderId: orchestratorId,
        recipientId: 'qs',
        messageType: 'APPROVAL_REQUEST',
        priority: 'HIGH',
        payload: expect.objectContaining({ workflowId, subtaskCount: 2 }),
      }),
    ]);

    await expect(control('reject', uniqueId(), 'reject:x', h.ports)).resolves.toMatchObject({ skipped: 'unknown workflow' });
    const approved = await decide(h, 'approve', workflowId);
    expect(approved.emit.map((e) => [e.type, e.data])).toEqual([['workflow.completed', { workflowId, subtaskCount: 2, averageQuality: 0.95 }]]);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'completed', completedAt: expect.any(String) });
    expect(await decide(h, 'approve', workflowId)).toMatchObject({ emit: [], skipped: 'workflow is already completed' });
    await expect(decide(h, 'reject', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it('fails the workflow on reject with the reason; a repeated reject is a no-op and a late approve is refused', async () => {
    const h = await createHarness({ planner: fixedPlanner(oneStep) });
    await h.agent('analyst', 'data_analyst');
    const workflowId = await startApproval(h);
    await expect(decide(h, 'approve', workflowId)).rejects.toThrow('cannot approve a running workflow');
    await passAll(h, workflowId);
    // No executive registered: the workflow still waits, for a human decision over HTTP.
    expect(messages(await h.take())).toEqual([]);
    expect((await h.workflow(workflowId)).status).toBe('awaiting_approval');

    const rejected = await decide(h, 'reject', workflowId, 'numbers do not add up');
    expect(rejected.emit.map((e) => e.data)).toEqual([{ workflowId, reason: 'rejected at approval: numbers do not add up' }]);
    expect(await h.workflow(workflowId)).toMatchObject({ status: 'failed', failureReason: 'rejected at approval: numbers do not add up' });
    expect((await decide(h, 'reject', workflowId)).skipped).toBe('workflow is already failed');
    await expect(decide(h, 'approve', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it('completes at once without requireApproval, and approve on it is refused', async () => {
    const h = await createHarness({ planner: fixedPlanner(oneStep) });
    await h.agent('analyst', 'data_analyst');
    const workflowId = await startApproval(h, false);
    await passAll(h, workflowId);
    expect((await h.workflow(workflowId)).status).toBe('completed');
    await expect(decide(h, 'approve', workflowId)).rejects.toBeInstanceOf(InvalidTransitionError);
  });
});

describe('the management lead is consulted for assignment', () => {
  async function withTeam(lead: boolean): Promise<{ h: Harness; ready: EventOf<'subtask.ready'> }> {
    const h = await createHarness({ planner: fixedPlanner(oneStep) });
    if (lead)
      await h.directory.register({ id: 'lead', layer: 'MANAGEMENT', role: 'analysis_team_lead', specialties: [], capacity: 5, demo: false }, h.clock.now());
    // Equal scores: by id alone the outsider would win.
    await h.agent('a-outsider', 'data_analyst');
    await h.agent('b-team', 'data_analyst', { supervisorId: 'lead' });
    await h.start('analyse');
    const ready = (await h.take()).find((e): e is EventOf<'subtask.ready'> => e.type === 'subtask.ready')!;
    return { h, ready };
  }

  it("prefers the lead's team over an equally ranked outsider and records the lead on subtask.assigned", async () => {
    const { h, ready } = await withTeam(true);
    await h.run('assign', ready);
    const carried = { subtaskVersion: (await h.subtask(ready.data.subtaskId)).version, task: ready.data.carried?.task };
    expect((await h.outbox('subtask.assigned')).map((e) => e.data)).toEqual([
      { workflowId: ready.data.workflowId, subtaskId: ready.data.subtaskId, specialty: 'data_analyst', attempt: 1, agentId: 'b-team', leadId: 'lead', carried },
    ]);
  });

  it('without a lead ranks by score alone and carries no leadId', async () => {
    const { h, ready } = await withTeam(false);
    await h.run('assign', ready);
    const carried = { subtaskVersion: (await h.subtask(ready.data.subtaskId)).version, task: ready.data.carried?.task };
    expect((await h.outbox('subtask.assigned')).map((e) => e.data)).toEqual([
      { workflowId: ready.data.workflowId, subtaskId: ready.data.subtaskId, specialty: 'data_analyst', attempt: 1, agentId: 'a-outsider', carried },
    ]);
  });

  it('still puts the agent of the failed attempt last, team member or not', async () => {
    const { h, ready } = await withTeam(true);
    await h.run('assign', makeEvent(subtaskReady, { ...ready.data, excludeAgents: ['b-team'] }, h.context));
    expect((await h.outbox('subtask.assigned'))[0]!.data).toMatchObject({ agentId: 'a-outsider', leadId: 'lead' });
  });
});

describe('escalation up REPORTS_TO and who worked on what', () => {
  it('escalates the second failure of a subtask to the failing agent’s supervisor, with attempts and reasons', async () => {
    const h = await createHarness({ planner: fixedPlanner(oneStep) });
    await h.directory.register({ id: 'lead', layer: 'MANAGEMENT', role: 'analysis_team_lead', specialties: [], capacity: 5, demo: false }, h.clock.now());
    await h.directory.register({ id: 'other-lead', layer: 'MANAGEMENT', role: 'research_team_lead', specialties: [], capacity: 5, demo: false }, h.clock.now());
    await h.agent('s1', 'data_analyst', { supervisorId: 'lead' });
    await h.agent('s2', 'data_analyst', { supervisorId: 'other-lead' });
    const { workflowId } = await h.start('analyse');
    const [first] = await h.pump();
    expect(first!.data.agentId).toBe('s1');
    await h.run('complete', h.failed(first!, 'agent_error', 'tool crashed'));
    expect(messages(await h.outbox())).toEqual([]);

    const [second] = await h.pump();
    expect(second!.data.agentId).toBe('s2');
    const low = h.completed(second!, 0.3);
    await h.run('complete', low);
    const [escalation] = messages(await h.outbox());
    expect(escalation).toMatchObject({
      senderId: orchestratorId,
      recipientId: 'other-lead',
      messageType: 'ESCALATION',
      priority: 'HIGH',
      correlationId: low.id,
    });
    expect(escalation!.payload).toEqual({
      reason: 'subtask_failed_repeatedly',
      workflowId,
      subtaskId: `${workflowId}.a`,
      specialty: 'data_analyst',
      agentId: 's2',
      attempts: 2,
      maxAttempts: 4,
      reasons: ['agent_error: tool crashed', 'quality 0.3 below threshold 0.85'],
      retrying: true,
      consecutiveFailures: 1,
      agentHealthy: true,
    });

    expect(await h.directory.workOf!('s1')).toEqual([
      { subtaskId: `${workflowId}.a`, workflowId, success: false, quality: 0, durationMs: 0, at: h.clock.now() },
    ]);
    expect(await h.directory.workOf!('s2')).toEqual([
      { subtaskId: `${workflowId}.a`, workflowId, success: false, quality: 0.3, durationMs: 1000, at: h.clock.now() },
    ]);
  });

  it('reaching the failure threshold makes the agent unhealthy (no more work) and says so; the last failure is URGENT; no supervisor falls back to the lead', async () => {
    const h = await createHarness({ planner: fixedPlanner(oneStep), config: { ORCHESTRATION_AGENT_FAILURE_THRESHOLD: 2, ORCHESTRATION_RETRY_ATTEMPTS: 1 } });
    await h.directory.register({ id: 'lead', layer: 'MANAGEMENT', role: 'analysis_team_lead', specialties: [], capacity: 5, demo: false }, h.clock.now());
    await h.agent('solo', 'data_analyst');
    const { workflowId } = await h.start('analyse');
    const [first] = await h.pump();
    await h.run('complete', h.failed(first!, 'agent_error', 'first'));
    const [second] = await h.pump();
    expect(second!.data.agentId).toBe('solo');
    await h.run('complete', h.failed(second!, 'agent_error', 'second'));
    const [escalation] = messages(await h.outbox());
    expect(escalation).toMatchObject({ recipientId: 'lead', priority: 'URGENT' });
    expect(escalation!.payload).toMatchObject({
      agentId: 'solo',
      attempts: 2,
      maxAttempts: 2,
      retrying: false,
      consecutiveFailures: 2,
      agentHealthy: false,
      reasons: ['agent_error: first', 'agent_error: second'],
    });
    expect((await h.workflow(workflowId)).status).toBe('failed');

    // Past the threshold solo gets no more work while a healthy agent exists (only a probation task
    // when nobody else can take it, see functions/assign/score.ts).
    await h.agent('fresh', 'data_analyst');
    await h.start('analyse again');
    expect((await h.pump()).map((d) => d.data.agentId)).toEqual(['fresh']);
  });

  it('records passing work once per agent and subtask', async () => {
    const h = await createHarness({ planner: fixedPlanner(oneStep) });
    await h.agent('s1', 'data_analyst');
    const { workflowId } = await h.start('analyse');
    const [d] = await h.pump();
    const done = h.completed(d!, 0.9);
    await h.run('complete', done);
    await h.run('complete', done);
    expect(await h.directory.workOf!('s1')).toEqual([
      { subtaskId: `${workflowId}.a`, workflowId, success: true, quality: 0.9, durationMs: 1000, at: h.clock.now() },
    ]);
  });
});

describe('approval and messages over HTTP (embedded runtime)', () => {
  let api: Embedded;
  beforeAll(async () => {
    api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
  });
  afterAll(async () => {
    await api?.stop();
  });

  async function awaitingApproval(): Promise<string> {
    const submitted = await api.post<{ workflowId: string }>('/v1/tasks', { description: 'Write a short market summary', requireApproval: true });
    expect(submitted.status).toBe(202);
    const { workflowId } = submitted.body;
    const until = Date.now() + 20_000;
    for (;;) {
      const { body } = await api.get<WorkflowBody>(`/v1/workflows/${workflowId}`);
      if (body.status === 'awaiting_approval') return workflowId;
      if (terminal.includes(body.status) || Date.now() > until) throw new Error(`workflow is ${body.status}, not awaiting_approval`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('POST /approve completes an awaiting workflow (repeatable), then /reject is a 409', async () => {
    const workflowId = await awaitingApproval();
    const approved = await api.post<WorkflowBody>(`/v1/workflows/${workflowId}/approve`);
    expect(approved).toMatchObject({ status: 200, body: { workflowId, status: 'completed' } });
    expect(await api.post<WorkflowBody>(`/v1/workflows/${workflowId}/approve`)).toMatchObject({ status: 200, body: { status: 'completed' } });
    expect(await api.post(`/v1/workflows/${workflowId}/reject`, { reason: 'too late' })).toMatchObject({ status: 409, body: { error: 'invalid_transition' } });
    expect((await api.post('/v1/workflows/wf-nobody/approve')).status).toBe(404);
  });

  it('POST /reject {reason} fails it (repeatable), then /approve is a 409; a bad body is a 400', async () => {
    const workflowId = await awaitingApproval();
    expect((await api.post(`/v1/workflows/${workflowId}/reject`, { reason: 42 })).status).toBe(400);
    const rejected = await api.post<WorkflowBody>(`/v1/workflows/${workflowId}/reject`, { reason: 'sources missing' });
    expect(rejected).toMatchObject({ status: 200, body: { status: 'failed', failureReason: 'rejected at approval: sources missing' } });
    expect((await api.post(`/v1/workflows/${workflowId}/reject`)).status).toBe(200);
    expect((await api.post(`/v1/workflows/${workflowId}/approve`)).status).toBe(409);
  });

  it("the seed's 'Test Agent Communication' example: send_message agent_1 → agent_2 SHARE_FINDINGS returns a message id and is delivered", async () => {
    const { messages, messageKeys } = api.runtime;
    if (!messages || !messageKeys) throw new Error('the embedded runtime has no communication bus');
    const received: Message[] = [];
    const close = await messages.onMessage('agent_2', (m) => void received.push(m));
    const body = { senderId: 'agent_1', recipientId: 'agent_2', messageType: 'SHARE_FINDINGS', payload: { data: 'test' }, priority: 'NORMAL' };
    expect((await api.post('/v1/messages', body)).status).toBe(401);
    const token = await issueAgentToken(messageKeys, 'agent_1', Date.now());
    const response = await fetch(`${api.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const sent = (await response.json()) as { messageId: string; recipients: string[] };
    expect(response.status).toBe(202);
    expect(sent).toEqual({ messageId: expect.stringMatching(/\S/), recipients: ['agent_2'] });
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(1);
    expect(received[0]).toMatchObject({
      messageId: sent.messageId,
      senderId: 'agent_1',
      messageType: 'SHARE_FINDINGS',
      priority: 'NORMAL',
      payload: { data: 'test' },
    });
    close();
  });

  it("tells a lost agent's supervisor (agent.lost → ESCALATION over the bus) and signs the orchestration's own messages onto it", async () => {
    const { messages } = api.runtime;
    if (!messages) throw new Error('the embedded runtime has no communication bus');
    const { directory } = api.runtime.ports;
    await directory.register({ id: 'boss', layer: 'MANAGEMENT', role: 'analysis_team_lead', specialties: [], capacity: 5, demo: false }, Date.now());
    await directory.register({ id: 'worker', layer: 'SPECIALIST', specialties: ['data_analyst'], supervisorId: 'boss', capacity: 1, demo: false }, Date.now());
    const got: Message[] = [];
    const close = await messages.onMessage('boss', (m) => void got.push(m));
    const lost = makeEvent(
      agentLost,
      { agentId: 'worker', reason: 'heartbeats stopped; leases expired', subtaskIds: ['st-1'] },
      { ids: api.runtime.ports.ids, clock: api.runtime.ports.clock, source: 'amas/test' },
    );
    await api.bus.publish(topics.agents, [{ key: 'worker', event: lost }]);
    // What a handler emits (an agent.message on amas.messages, unsigned) reaches the inbox signed by the relay.
    const fromHandler = makeEvent(
      agentMessage,
      {
        messageId: 'm-1',
        senderId: orchestratorId,
        recipientId: 'boss',
        messageType: 'STATUS_UPDATE',
        priority: 'LOW',
        payload: { note: 'from a handler' },
        sentAt: new Date().toISOString(),
      },
      { ids: api.runtime.ports.ids, clock: api.runtime.ports.clock, source: 'amas/test' },
    );
    await api.bus.publish(topics.messages, [{ key: 'boss', event: fromHandler }]);
    await expect.poll(() => got.length, { timeout: 5_000 }).toBe(2);
    const byType = Object.fromEntries(got.map((m) => [m.messageType, m]));
    expect(byType.ESCALATION).toMatchObject({
      senderId: orchestratorId,
      priority: 'HIGH',
      payload: { reason: 'agent_lost', agentId: 'worker', subtaskIds: ['st-1'] },
    });
    expect(byType.STATUS_UPDATE).toMatchObject({ senderId: orchestratorId, priority: 'LOW', payload: { note: 'from a handler' } });
    close();
  });
});
