import type { SubtaskAttempt } from '../api/attempts.js';
import type { LineageEdge, LineageNode, LineageResponse } from '../api/lineage.js';
import { outputIdOf } from '../domain/lineage.js';
import type { Subtask, Workflow } from '../domain/workflow.js';
import type { LineageRecord, OutputRecord } from '../ports/agent-directory.port.js';

/**
 * An attempt that produced an output, for a directory that keeps no lineage: a completed one, or one
 * that failed with a quality (a result below the threshold; a reported failure has none).
 */
function outputsOfAttempts(attempts: readonly SubtaskAttempt[]): OutputRecord[] {
  return attempts.flatMap((a) =>
    a.agentId !== null && a.quality !== null && (a.status === 'completed' || a.status === 'failed')
      ? [
          {
            id: outputIdOf(a.subtaskId, a.attempt),
            subtaskId: a.subtaskId,
            attempt: a.attempt,
            agentId: a.agentId,
            success: a.status === 'completed',
            quality: a.quality,
            durationMs: a.durationMs ?? 0,
            at: Date.parse(a.endedAt ?? a.startedAt ?? '') || 0,
          },
        ]
      : [],
  );
}

/**
 * The lineage graph of a workflow: its subtasks as the store holds them (every one, run or not), the
 * DEPENDS_ON edges of the plan and of the graph, and the outputs the graph recorded — or, when
 * `graph` is null, those the attempt history shows.
 */
export function lineageView(
  workflow: Workflow,
  subtasks: readonly Subtask[],
  graph: LineageRecord | null,
  attempts: readonly SubtaskAttempt[],
): LineageResponse {
  const nodes: LineageNode[] = [{ id: `workflow:${workflow.id}`, kind: 'workflow', workflowId: workflow.id, status: workflow.status }];
  const edges: LineageEdge[] = [];
  const known = new Set(subtasks.map((s) => s.id));
  const dependencies = new Map(subtasks.map((s) => [s.id, new Set(s.dependsOn)]));
  for (const recorded of graph?.subtasks ?? []) for (const d of recorded.dependsOn) dependencies.get(recorded.id)?.add(d);

  for (const s of subtasks) {
    nodes.push({
      id: `subtask:${s.id}`,
      kind: 'subtask',
      subtaskId: s.id,
      title: s.title,
      specialty: s.specialty,
      phase: s.phase,
      status: s.status,
      attempts: s.attempts,
    });
    edges.push({ type: 'PART_OF', from: `subtask:${s.id}`, to: `workflow:${workflow.id}` });
    for (const d of dependencies.get(s.id) ?? []) if (known.has(d)) edges.push({ type: 'DEPENDS_ON', from: `subtask:${s.id}`, to: `subtask:${d}` });
  }
  const agents = new Set<string>();
  for (const o of graph ? graph.outputs : outputsOfAttempts(attempts)) {
    if (!known.has(o.subtaskId)) continue;
    nodes.push({
      id: `output:${o.id}`,
      kind: 'output',
      ref: o.id,
      subtaskId: o.subtaskId,
      attempt: o.attempt,
      agentId: o.agentId,
      accepted: o.success,
      quality: o.quality,
      durationMs: o.durationMs,
      at: new Date(o.at).toISOString(),
    });
    edges.push(
      { type: 'PRODUCED', from: `subtask:${o.subtaskId}`, to: `output:${o.id}` },
      { type: 'PRODUCED_BY', from: `output:${o.id}`, to: `agent:${o.agentId}` },
    );
    agents.add(o.agentId);
  }
  for (const agentId of agents) nodes.push({ id: `agent:${agentId}`, kind: 'agent', agentId });
  return { workflowId: workflow.id, source: graph ? 'graph' : 'attempts', nodes, edges };
}
