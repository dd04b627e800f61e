import { describe, expect, it } from 'vitest';
import type { Change, WorkflowView } from './api.js';
import { applyChange, commandsFor, duration, timelines } from './model.js';

let seq = 0;
const change = (at: number, fields: Partial<Change>): Change => ({
  cursor: `1-${++seq}`,
  at: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, at)).toISOString(),
  workflowId: 'wf_1',
  kind: 'subtask',
  subtaskId: 'wf_1.s1',
  status: 'pending',
  previousStatus: null,
  agentId: null,
  attempt: null,
  quality: null,
  error: null,
  ...fields,
});

describe('timelines', () => {
  it('splits a subtask into attempts with wait and run times, a retry included', () => {
    const changes = [
      change(0, { status: 'ready', previousStatus: null, attempt: 0 }),
      change(100, { status: 'ready', previousStatus: 'ready', agentId: 'a1', attempt: 0 }),
      change(150, { status: 'in_progress', previousStatus: 'ready', agentId: 'a1', attempt: 1 }),
      change(900, { status: 'ready', previousStatus: 'in_progress', agentId: 'a1', attempt: 1, quality: 0.4, error: 'quality 0.40 below 0.85' }),
      change(1000, { status: 'in_progress', previousStatus: 'ready', agentId: 'a2', attempt: 2 }),
      change(1600, { status: 'completed', previousStatus: 'in_progress', agentId: 'a2', attempt: 2, quality: 0.95 }),
      change(50, { subtaskId: 'wf_1.s2', status: 'pending', previousStatus: null, attempt: 0 }),
    ];
    const lines = timelines(changes);
    const [first, second] = lines.get('wf_1.s1')!.attempts;
    expect(first).toMatchObject({ attempt: 1, agentId: 'a1', outcome: 'ready', quality: 0.4, error: 'quality 0.40 below 0.85' });
    expect(duration(first!.readyAt, first!.startedAt)).toBe('150 ms');
    expect(duration(first!.startedAt, first!.endedAt)).toBe('750 ms');
    expect(second).toMatchObject({ attempt: 2, agentId: 'a2', outcome: 'completed', quality: 0.95, error: null });
    expect(duration(second!.readyAt, second!.startedAt)).toBe('100 ms');
    expect(duration(second!.startedAt, second!.endedAt)).toBe('600 ms');
    expect(lines.get('wf_1.s2')).toEqual({ createdAt: changes[6]!.at, attempts: [] });
  });
});

describe('applyChange', () => {
  const subtask = {
    id: 'wf_1.s1',
    title: 't',
    specialty: 'data_analyst',
    phase: 'analysis',
    status: 'ready',
    assignedAgent: null,
    attempts: 0,
    dependsOn: [],
    quality: null,
    deadline: null,
    lastError: null,
    output: null,
  };
  const view = {
    workflowId: 'wf_1',
    status: 'running',
    subtasks: [subtask, { ...subtask, id: 'wf_1.s2', status: 'completed' }],
    progress: { total: 2, completed: 1, inProgress: 0, ready: 1, pending: 0, failed: 0, cancelled: 0, percent: 50 },
  } as unknown as WorkflowView;

  it('moves a subtask and the progress at once', () => {
    const next = applyChange(view, change(0, { status: 'completed', previousStatus: 'in_progress', agentId: 'a1', attempt: 1, quality: 0.9 }));
    expect(next.subtasks[0]).toMatchObject({ status: 'completed', assignedAgent: 'a1', attempts: 1, quality: 0.9 });
    expect(next.progress).toMatchObject({ completed: 2, ready: 0, percent: 100 });
  });

  it('moves the workflow, and ignores other workflows', () => {
    expect(applyChange(view, change(0, { kind: 'workflow', subtaskId: null, status: 'paused' })).status).toBe('paused');
    expect(applyChange(view, change(0, { workflowId: 'wf_2', kind: 'workflow', subtaskId: null, status: 'paused' }))).toBe(view);
  });

  it('knows which approval a waiting workflow needs: the plan while work is left, the delivery once all completed', () => {
    const awaiting = change(0, { kind: 'workflow', subtaskId: null, status: 'awaiting_approval' });
    expect(applyChange(view, awaiting).approvalStage).toBe('plan');
    const finished = applyChange(view, change(0, { status: 'completed', previousStatus: 'in_progress' }));
    expect(finished.approvalStage).toBeNull();
    expect(applyChange(finished, awaiting).approvalStage).toBe('delivery');
    expect(applyChange(applyChange(finished, awaiting), change(0, { kind: 'workflow', subtaskId: null, status: 'completed' })).approvalStage).toBeNull();
  });
});

it('offers the commands that fit the status', () => {
  expect(commandsFor('running')).toEqual({ pause: true, resume: false, cancel: true, approve: false, reject: false });
  expect(commandsFor('awaiting_approval')).toMatchObject({ approve: true, reject: true, pause: false });
  expect(commandsFor('completed')).toEqual({ pause: false, resume: false, cancel: false, approve: false, reject: false });
});
