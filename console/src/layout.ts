import { Graph, layout } from '@dagrejs/dagre';
import type { SubtaskView, WorkflowView } from './api.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface DagLayout {
  width: number;
  height: number;
  nodes: (Box & { id: string })[];
  edges: { from: string; to: string; path: string }[];
  phases: (Box & { phase: string })[];
}

export const nodeSize = { width: 200, height: 66 };
const margin = 16;
const labelHeight = 22;
const pad = 12;

/**
 * Lays the subtasks out left to right (dagre), edges along dependsOn. Phases follow one another in a
 * plan, so each phase is drawn as a box around its subtasks (a compound layout routes edges worse).
 */
export function layoutDag(subtasks: readonly SubtaskView[], plan: WorkflowView['plan']): DagLayout {
  const graph = new Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 22, ranksep: 70, marginx: margin + pad, marginy: margin + pad + labelHeight });
  graph.setDefaultEdgeLabel(() => ({}));
  const known = new Set(subtasks.map((s) => s.id));
  for (const s of subtasks) graph.setNode(s.id, { ...nodeSize });
  for (const s of subtasks) for (const dependency of s.dependsOn) if (known.has(dependency)) graph.setEdge(dependency, s.id);
  layout(graph);

  const nodes = subtasks.map((s) => {
    const { x = 0, y = 0 } = graph.node(s.id);
    return { id: s.id, x: x - nodeSize.width / 2, y: y - nodeSize.height / 2, ...nodeSize };
  });
  const phaseOf = new Map<string, string>(subtasks.map((s) => [s.id, s.phase]));
  for (const { phase, subtaskIds } of plan?.phases ?? []) for (const id of subtaskIds) phaseOf.set(id, phase);
  const { height = 0 } = graph.graph();
  const phases = [...new Set(subtasks.map((s) => phaseOf.get(s.id)!))].map((phase) => {
    const members = nodes.filter((n) => phaseOf.get(n.id) === phase);
    const left = Math.min(...members.map((n) => n.x)) - pad;
    const right = Math.max(...members.map((n) => n.x + n.width)) + pad;
    // Full height columns read as lanes; the label sits at the top of each.
    return { phase, x: left, y: margin, width: right - left, height: height - 2 * margin };
  });
  const edges = graph.edges().map(({ v, w }) => ({ from: v, to: w, path: curve(graph.edge(v, w).points ?? []) }));
  const { width = 0 } = graph.graph();
  return { width, height, nodes, phases, edges };
}

/** A smooth path through dagre's points. */
function curve(points: readonly { x: number; y: number }[]): string {
  const [first, ...rest] = points;
  if (!first) return '';
  let path = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length; i++) {
    const point = rest[i]!;
    const next = rest[i + 1];
    if (next && i < rest.length - 1) path += ` Q${point.x},${point.y} ${(point.x + next.x) / 2},${(point.y + next.y) / 2}`;
    else path += ` L${point.x},${point.y}`;
  }
  return path;
}
