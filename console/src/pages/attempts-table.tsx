import { useEffect } from 'preact/hooks';
import type { Change, WorkflowView } from '../api.js';
import { StatusBadge } from '../components.js';
import { clockTime, duration, timelines, type Attempt } from '../model.js';

const outcomeText: Record<string, string> = { ready: 'retried', pending: 'retried', superseded: 'superseded' };

/** One row per attempt of each subtask (one row for a subtask not started yet), timings from the change stream. */
export function AttemptsTable({
  view,
  changes,
  selected,
  onSelect,
}: {
  view: WorkflowView;
  changes: readonly Change[];
  selected: string | null;
  onSelect(id: string | null): void;
}) {
  const lines = timelines(changes);
  useEffect(() => {
    if (selected) document.querySelector(`tr[data-row-subtask="${CSS.escape(selected)}"]`)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [selected]);
  if (view.subtasks.length === 0) return <p class="empty">No subtasks yet.</p>;
  return (
    <table class="table attempts" data-testid="attempts-table">
      <thead>
        <tr>
          <th>Subtask</th>
          <th>Phase</th>
          <th>Status</th>
          <th class="num">#</th>
          <th>Agent</th>
          <th class="num">Quality</th>
          <th class="num">Waited</th>
          <th>Started</th>
          <th class="num">Ran</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {view.subtasks.flatMap((s) => {
          const attempts: (Attempt | null)[] = lines.get(s.id)?.attempts ?? [];
          const rows = attempts.length > 0 ? attempts : [null];
          return rows.map((a, i) => (
            <tr
              key={`${s.id}#${a?.attempt ?? 0}#${i}`}
              data-row-subtask={s.id}
              class={`${selected === s.id ? 'selected' : ''} ${i > 0 ? 'continued' : ''}`}
              onClick={() => onSelect(selected === s.id ? null : s.id)}
            >
              <td class="task">{i === 0 ? <span title={s.id}>{s.title}</span> : null}</td>
              <td class="muted">{i === 0 ? s.phase : null}</td>
              <td>
                {a === null || i === rows.length - 1 ? <StatusBadge status={s.status} /> : <span class="muted">{outcomeText[a.outcome] ?? a.outcome}</span>}
              </td>
              <td class="num">{a?.attempt ?? (s.attempts || '—')}</td>
              <td class="agent-cell">{a?.agentId ?? s.assignedAgent ?? <span class="muted">—</span>}</td>
              <td class="num">{quality(a?.quality ?? (i === rows.length - 1 ? s.quality : null))}</td>
              <td class="num muted">{a ? duration(a.readyAt, a.startedAt) : '—'}</td>
              <td class="muted">{a ? clockTime(a.startedAt) : '—'}</td>
              <td class="num">{a ? duration(a.startedAt, a.endedAt) : '—'}</td>
              <td class="error-cell">{a?.error ?? (i === rows.length - 1 ? s.lastError : null) ?? ''}</td>
            </tr>
          ));
        })}
      </tbody>
    </table>
  );
}

const quality = (q: number | null) => (q === null ? <span class="muted">—</span> : <span class={q >= 0.85 ? 'good' : 'poor'}>{q.toFixed(2)}</span>);
