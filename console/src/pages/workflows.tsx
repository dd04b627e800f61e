import { useEffect, useState } from 'preact/hooks';
import { api, type WorkflowList, type WorkflowStatus } from '../api.js';
import { Card, ErrorNote, LiveIndicator, message, StatusBadge } from '../components.js';
import { useDebounced, useFollow } from '../live.js';
import { clockTime, duration, isTerminal, label, workflowStatuses } from '../model.js';
import { SubmitForm } from './submit-form.js';

const pageSize = 25;
type Counts = Partial<Record<WorkflowStatus | 'all', number>>;

/** Every status's count, from `total` of a one-row page each. */
async function countAll(): Promise<Counts> {
  const statuses = [undefined, ...workflowStatuses];
  const totals = await Promise.all(statuses.map((status) => api.listWorkflows({ status, limit: 1 }).then((list) => list.total)));
  return Object.fromEntries(statuses.map((status, i) => [status ?? 'all', totals[i]]));
}

export function WorkflowsPage({ status }: { status: string | null }) {
  const filter = workflowStatuses.includes(status as WorkflowStatus) ? (status as WorkflowStatus) : undefined;
  const [offset, setOffset] = useState(0);
  const [list, setList] = useState<WorkflowList | null>(null);
  const [counts, setCounts] = useState<Counts>({});
  const [error, setError] = useState<string | null>(null);

  const load = () => {
    Promise.all([api.listWorkflows({ status: filter, limit: pageSize, offset }), countAll()])
      .then(([page, all]) => {
        setList(page);
        setCounts(all);
        setError(null);
      })
      .catch((e: unknown) => setError(message(e)));
  };
  const reload = useDebounced(load, 300);
  useEffect(() => setOffset(0), [filter]);
  useEffect(load, [filter, offset]);
  // Any workflow's change moves a count; subtask changes matter to nobody on this page.
  const mode = useFollow('/v1/events', { onChange: (change) => change.kind === 'workflow' && reload(), poll: load });

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Workflows</h1>
          <p class="muted">Every task submitted to the orchestrator, newest first.</p>
        </div>
        <LiveIndicator mode={mode} />
      </div>
      <div class="filters" role="tablist" data-testid="status-filters">
        <a href="#/workflows" class={`chip ${filter === undefined ? 'active' : ''}`} data-testid="count-all" data-count={counts.all}>
          all <b>{counts.all ?? '…'}</b>
        </a>
        {workflowStatuses.map((s) => (
          <a
            key={s}
            href={`#/workflows?status=${s}`}
            class={`chip chip-${s} ${filter === s ? 'active' : ''}`}
            data-testid={`count-${s}`}
            data-count={counts[s]}
          >
            <span class={`dot status-${s}`} />
            {label(s)} <b>{counts[s] ?? '…'}</b>
          </a>
        ))}
      </div>
      <div class="columns">
        <Card title={filter ? `${label(filter)} workflows` : 'All workflows'} class="grow">
          <ErrorNote error={error} />
          <WorkflowTable list={list} />
          {list && list.total > pageSize && (
            <div class="pager">
              <button class="btn btn-ghost" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>
                ← Newer
              </button>
              <span class="muted">
                {offset + 1}–{Math.min(offset + pageSize, list.total)} of {list.total}
              </span>
              <button class="btn btn-ghost" disabled={offset + pageSize >= list.total} onClick={() => setOffset(offset + pageSize)}>
                Older →
              </button>
            </div>
          )}
        </Card>
        <Card title="Submit a task" class="side">
          <SubmitForm onSubmitted={(id) => (location.hash = `#/workflows/${encodeURIComponent(id)}`)} />
        </Card>
      </div>
    </div>
  );
}

function WorkflowTable({ list }: { list: WorkflowList | null }) {
  if (!list) return <p class="empty">Loading…</p>;
  if (list.workflows.length === 0) return <p class="empty">No workflows here yet. Submit a task to start one.</p>;
  return (
    <table class="table" data-testid="workflow-table">
      <thead>
        <tr>
          <th>Task</th>
          <th>Status</th>
          <th>Priority</th>
          <th>Complexity</th>
          <th>Created</th>
          <th class="num">Duration</th>
        </tr>
      </thead>
      <tbody>
        {list.workflows.map((w) => (
          <tr key={w.workflowId} data-workflow-id={w.workflowId}>
            <td class="task">
              <a href={`#/workflows/${encodeURIComponent(w.workflowId)}`}>{w.description}</a>
              <code>{w.workflowId}</code>
            </td>
            <td>
              <StatusBadge status={w.status} />
            </td>
            <td>
              <span class={`priority priority-${w.priority}`}>{w.priority.toLowerCase()}</span>
            </td>
            <td class="muted">{w.complexity?.toLowerCase() ?? '—'}</td>
            <td class="muted">{clockTime(w.createdAt)}</td>
            <td class="num">{isTerminal(w.status) ? duration(w.createdAt, w.completedAt) : <span class="muted">{duration(w.createdAt, null)}</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
