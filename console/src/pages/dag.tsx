import { useMemo } from 'preact/hooks';
import type { SubtaskView, WorkflowView } from '../api.js';
import { layoutDag, nodeSize } from '../layout.js';
import { label } from '../model.js';

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The workflow's subtasks as a graph: laid out once per plan, coloured by status on every change. */
export function Dag({ view, selected, onSelect }: { view: WorkflowView; selected: string | null; onSelect(id: string | null): void }) {
  const shape = view.subtasks.map((s) => `${s.id}<${s.dependsOn.join(',')}`).join(';');
  // The layout depends on the graph's shape only: a status change recolours, never moves, a node.
  const dag = useMemo(() => layoutDag(view.subtasks, view.plan), [shape]);
  if (view.subtasks.length === 0) {
    return <p class="empty">{view.status === 'pending' ? 'Decomposing the task into subtasks…' : 'This workflow has no subtasks.'}</p>;
  }
  const byId = new Map(view.subtasks.map((s) => [s.id, s]));
  return (
    <div class="dag-scroll">
      <svg
        class="dag"
        data-testid="dag"
        viewBox={`0 0 ${dag.width} ${dag.height}`}
        style={{ maxWidth: `${dag.width}px` }}
        role="img"
        aria-label="Subtask dependency graph"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" />
          </marker>
        </defs>
        {dag.phases.map((p) => (
          <g key={p.phase} class={`phase phase-${p.phase}`}>
            <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={12} />
            <text x={p.x + 12} y={p.y + 16}>
              {p.phase}
            </text>
          </g>
        ))}
        {dag.edges.map((e) => (
          <path key={`${e.from}>${e.to}`} class={`edge ${byId.get(e.from)?.status === 'completed' ? 'edge-done' : ''}`} d={e.path} marker-end="url(#arrow)" />
        ))}
        {dag.nodes.map((n) => {
          const s = byId.get(n.id);
          return s ? <Node key={n.id} subtask={s} x={n.x} y={n.y} selected={selected === n.id} onSelect={onSelect} /> : null;
        })}
      </svg>
    </div>
  );
}

function Node({ subtask: s, x, y, selected, onSelect }: { subtask: SubtaskView; x: number; y: number; selected: boolean; onSelect(id: string | null): void }) {
  // Titles read "Market research (news trends analyzer)": the specialty gets a line of its own.
  const title = s.title.replace(/\s*\([^)]*\)\s*$/, '') || s.title;
  const facts = [s.attempts > 1 ? `try ${s.attempts}` : null, s.quality !== null ? `q ${s.quality.toFixed(2)}` : null].filter(Boolean).join(' · ');
  return (
    <g
      class={`node status-${s.status} ${selected ? 'selected' : ''}`}
      data-subtask-id={s.id}
      data-status={s.status}
      transform={`translate(${x},${y})`}
      onClick={() => onSelect(selected ? null : s.id)}
    >
      <title>{`${s.title}\n${label(s.status)}${s.assignedAgent ? ` · ${s.assignedAgent}` : ''}${s.lastError ? `\n${s.lastError}` : ''}`}</title>
      <rect class="node-box" width={nodeSize.width} height={nodeSize.height} rx={10} />
      <rect class="node-stripe" width={5} height={nodeSize.height} rx={2.5} />
      <text class="node-title" x={16} y={21}>
        {clip(title, 25)}
      </text>
      <text class="node-detail" x={16} y={38}>
        {clip(s.specialty.replace(/_/g, ' '), 30)}
      </text>
      <circle class="node-dot" cx={20} cy={52} r={4} />
      <text class="node-status" x={30} y={56}>
        {label(s.status)}
      </text>
      <text class="node-facts" x={nodeSize.width - 12} y={56} text-anchor="end">
        {facts}
      </text>
    </g>
  );
}
