import { describe, expect, it } from 'vitest';
import type { SubtaskAttempt } from '../api/attempts.js';
import { lineageResponseSchema } from '../api/lineage.js';
import type { Subtask, Workflow } from '../domain/workflow.js';
import { lineageView } from './lineage-view.js';

const workflow = { id: 'wf', status: 'running' } as Workflow;
const subtask = (id: string, dependsOn: string[]): Subtask =>
  ({ id, workflowId: 'wf', title: id, specialty: 'data_analyst', phase: 'analysis', status: 'completed', attempts: 1, dependsOn }) as Subtask;
const attempt = (subtaskId: string, n: number, extra: Partial<SubtaskAttempt>): SubtaskAttempt => ({
  subtaskId,
  attempt: n,
  agentId: 'a1',
  leaseToken: n,
  status: 'completed',
  quality: 0.9,
  error: null,
  reason: null,
  assignedAt: null,
  startedAt: '2024-05-01T10:00:00.000Z',
  endedAt: '2024-05-01T10:00:01.000Z',
  durationMs: 1_000,
  ...extra,
});

describe('lineageView', () => {
  it('without a graph, takes the outputs from the attempts: completed or scored, never a reported failure', () => {
    const view = lineageView(workflow, [subtask('s1', []), subtask('s2', ['s1'])], null, [
      attempt('s1', 1, { status: 'failed', quality: null, error: 'timeout: deadline passed' }),
      attempt('s1', 2, { status: 'failed', quality: 0.4, agentId: 'a2' }),
      attempt('s1', 3, {}),
      attempt('s2', 1, { status: 'running', quality: null, endedAt: null, durationMs: null }),
    ]);
    expect(lineageResponseSchema.parse(view)).toEqual(view);
    expect(view.source).toBe('attempts');
    expect(view.nodes.flatMap((n) => (n.kind === 'output' ? [`${n.ref} ${n.agentId} ${n.accepted}`] : []))).toEqual(['s1#2 a2 false', 's1#3 a1 true']);
    expect(view.nodes.filter((n) => n.kind === 'agent').map((n) => n.id)).toEqual(['agent:a2', 'agent:a1']);
    expect(view.edges).toContainEqual({ type: 'DEPENDS_ON', from: 'subtask:s2', to: 'subtask:s1' });
    expect(view.edges.filter((e) => e.type === 'PRODUCED').map((e) => e.to)).toEqual(['output:s1#2', 'output:s1#3']);
  });

  it("joins the graph's dependency edges to the plan's, and leaves out what is not this workflow's", () => {
    const graph = {
      subtasks: [{ id: 's2', dependsOn: ['s0', 'ghost'] }],
      outputs: [{ id: 'ghost#1', subtaskId: 'ghost', attempt: 1, agentId: 'a', success: true, quality: 1, durationMs: 1, at: 0 }],
    };
    const view = lineageView(workflow, [subtask('s0', []), subtask('s1', []), subtask('s2', ['s1'])], graph, []);
    expect(view.source).toBe('graph');
    expect(view.edges.filter((e) => e.type === 'DEPENDS_ON').map((e) => e.to)).toEqual(['subtask:s1', 'subtask:s0']);
    expect(view.nodes.some((n) => n.kind === 'output' || n.kind === 'agent')).toBe(false);
  });
});
