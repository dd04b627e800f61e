import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orchestratorId } from '../../functions/index.js';
import type { EventOf } from '../../shared/events/index.js';
import { topics } from '../../shared/events/index.js';
import type { AgentMessage } from '../../shared/messaging/index.js';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { startEmbedded, type Embedded, type WorkflowBody } from './helpers/embedded.js';

/** The example: an INVESTIGATION plan, marked approvalRequired by the planner. */
const incident = 'Investigate security incident in production database';

let api: Embedded;
beforeAll(async () => {
  // The shipped default, written as an operator might (the value is read in any case).
  api = await startEmbedded({ ORCHESTRATION_PLAN_APPROVAL: 'before_execution', ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
}, 60_000);
afterAll(async () => {
  await api?.stop();
});

const view = async (id: string) => (await api.get<WorkflowBody>(`/v1/workflows/${id}`)).body;

async function submit(description = incident): Promise<string> {
  const { status, body } = await api.post<{ workflowId: string }>('/v1/tasks', { description });
  expect(status).toBe(202);
  return body.workflowId;
}

async function statusOf(id: string, wanted: string): Promise<WorkflowBody> {
  await expect.poll(async () => (await view(id)).status, { timeout: 15_000, interval: 25 }).toBe(wanted);
  return view(id);
}

/** The subtask.ready events of a workflow that reached the bus. */
async function readyEvents(workflowId: string): Promise<EventOf<'subtask.ready'>[]> {
  const events = (await api.bus.read(topics.subtaskReady)).map((d) => d.value as EventOf<'subtask.ready'>);
  return events.filter((e) => e.data.workflowId === workflowId);
}

/** The APPROVAL_REQUEST messages about a workflow that reached the bus. */
async function approvalRequests(workflowId: string): Promise<EventOf<'agent.message'>['data'][]> {
  const events = (await api.bus.read(topics.messages)).map((d) => d.value as EventOf<'agent.message'>);
  return events.map((e) => e.data).filter((m) => m.messageType === 'APPROVAL_REQUEST' && m.payload.workflowId === workflowId);
}

async function amas(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { out: (t) => void (out += t), err: () => undefined, env: { AMAS_URL: api.baseUrl } };
  return { code: await runCli(argv, io), out };
}

describe('plan approval over HTTP (ORCHESTRATION_PLAN_APPROVAL=before_execution)', () => {
  it('the incident task waits for approval with nothing dispatched; approve runs it to completion', async () => {
    const id = await submit();
    const waiting = await statusOf(id, 'awaiting_approval');
    expect(waiting).toMatchObject({ approvalStage: 'plan', plan: { approvalRequired: true }, progress: { completed: 0, inProgress: 0 } });
    expect(waiting.subtasks.length).toBeGreaterThan(0);
    await api.quiesce();
    const still = await view(id);
    expect(still.status).toBe('awaiting_approval');
    expect(still.subtasks.every((s) => s.attempts === 0 && s.assignedAgent === null)).toBe(true);
    expect(await readyEvents(id)).toEqual([]);
    // The executive layer was asked, naming the stage.
    expect((await approvalRequests(id)).map((m) => m.payload)).toEqual([
      expect.objectContaining({ stage: 'plan', workflowId: id, subtaskCount: waiting.subtasks.length }),
    ]);
    // `amas status` says what it waits for.
    expect((await amas(['status', id])).out).toContain(`awaiting plan approval: amas approve ${id}`);

    expect(await api.post(`/v1/workflows/${id}/pause`, {})).toMatchObject({ status: 409, body: { error: 'invalid_transition' } });
    expect(await api.post(`/v1/workflows/${id}/approve`, { stage: 'delivery' })).toMatchObject({ status: 409 });
    expect(await api.post(`/v1/workflows/${id}/approve`, { stage: 'bogus' })).toMatchObject({ status: 400 });
    const approved = await api.post<WorkflowBody>(`/v1/workflows/${id}/approve`, { stage: 'plan' });
    expect(approved.status).toBe(200);
    expect(approved.body.approvalStage).toBeNull();
    expect(['running', 'completed']).toContain(approved.body.status);

    expect((await api.settle(id)).status).toBe('completed');
    const done = await view(id);
    expect(done.subtasks.every((s) => s.status === 'completed' && s.attempts >= 1)).toBe(true);
    // Approving again is harmless.
    expect(await api.post<WorkflowBody>(`/v1/workflows/${id}/approve`, {})).toMatchObject({ status: 200, body: { status: 'completed' } });
  });

  it('reject fails it before any subtask ran; a repeated reject is harmless', async () => {
    const id = await submit();
    await statusOf(id, 'awaiting_approval');
    const rejected = await api.post<WorkflowBody>(`/v1/workflows/${id}/reject`, { reason: 'not during the freeze' });
    expect(rejected).toMatchObject({
      status: 200,
      body: { status: 'failed', failureReason: 'rejected at approval: not during the freeze', approvalStage: null },
    });
    expect(rejected.body.subtasks.every((s) => s.status === 'cancelled' && s.attempts === 0)).toBe(true);
    expect((await api.post(`/v1/workflows/${id}/reject`, {})).status).toBe(200);
    await api.quiesce();
    expect(await readyEvents(id)).toEqual([]);
  });

  it('a request whose plan needs no approval runs at once', async () => {
    const id = await submit('Write a short market summary');
    expect((await api.settle(id)).status).toBe('completed');
  });

  it("an executive agent's APPROVAL_RESPONSE for the plan starts it", async () => {
    const { messages, ports } = api.runtime;
    if (!messages) throw new Error('no communication bus');
    await ports.directory.register(
      { id: 'exec-plan-approver', layer: 'EXECUTIVE', role: 'quality_supervisor', specialties: [], capacity: 1, demo: false },
      Date.now(),
    );
    const replies: AgentMessage[] = [];
    const close = await messages.onMessage('exec-plan-approver', (m) => void replies.push(m));
    const id = await submit();
    await statusOf(id, 'awaiting_approval');
    await messages.sendMessage({
      senderId: 'exec-plan-approver',
      recipientId: orchestratorId,
      messageType: 'APPROVAL_RESPONSE',
      priority: 'HIGH',
      payload: { workflowId: id, approved: true, stage: 'plan' },
    });
    await expect.poll(() => replies.some((m) => m.messageType === 'MESSAGE_PROCESSED' && m.payload.workflowId === id), { timeout: 5_000 }).toBe(true);
    expect((await api.settle(id)).status).toBe('completed');
    close();
  });
});
