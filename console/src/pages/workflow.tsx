import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Change, type Command, type WorkflowView } from '../api.js';
import { Card, ErrorNote, LiveIndicator, message, StatusBadge } from '../components.js';
import { useDebounced, useFollow } from '../live.js';
import { applyChange, clockTime, commandsFor, duration, isTerminal } from '../model.js';
import { AttemptsTable } from './attempts-table.js';
import { Dag } from './dag.js';

const commands: { command: Command; text: string; tone: string; confirm?: string }[] = [
  { command: 'approve', text: 'Approve', tone: 'btn-primary' },
  { command: 'reject', text: 'Reject', tone: 'btn-danger', confirm: 'Reject this workflow? It will be cancelled.' },
  { command: 'pause', text: 'Pause', tone: 'btn-ghost' },
  { command: 'resume', text: 'Resume', tone: 'btn-primary' },
  { command: 'cancel', text: 'Cancel', tone: 'btn-danger', confirm: 'Cancel this workflow? Running subtasks are abandoned.' },
];

export function WorkflowPage({ id }: { id: string }) {
  const [view, setView] = useState<WorkflowView | null>(null);
  const [changes, setChanges] = useState<Change[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Command | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const load = () => {
    api
      .workflow(id)
      .then((fresh) => {
        setView(fresh);
        setError(null);
      })
      .catch((e: unknown) => setError(message(e)));
  };
  const reload = useDebounced(load, 250);
  useEffect(load, [id]);
  // The stream replays the workflow's history first (the timings come from it), then follows it live.
  // Followed once the workflow is known to exist (an unknown id is an error page, not a reconnect loop).
  const mode = useFollow(view === null ? null : `/v1/workflows/${encodeURIComponent(id)}/events`, {
    onChange(change) {
      setChanges((all) => [...all, change]);
      setView((current) => current && applyChange(current, change));
      reload();
    },
    onEnd: load,
    poll: load,
  });
  // A stream that cannot be had for a finished workflow leaves nothing to poll for.
  const settled = view !== null && isTerminal(view.status) && mode === 'polling';
  const shownMode = settled ? 'ended' : mode;

  const run = async (command: Command, confirmText?: string) => {
    if (confirmText && !confirm(confirmText)) return;
    setBusy(command);
    try {
      setView(await api.command(id, command));
      setError(null);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(null);
    }
  };

  if (!view) {
    return (
      <div class="page">
        <a class="back" href="#/workflows">
          ← Workflows
        </a>
        {error ? <ErrorNote error={error} /> : <p class="empty">Loading workflow…</p>}
      </div>
    );
  }
  const allowed = commandsFor(view.status);
  const { progress } = view;
  return (
    <div class="page" data-workflow-id={view.workflowId}>
      <a class="back" href="#/workflows">
        ← Workflows
      </a>
      <div class="page-head">
        <div class="title-block">
          <h1>{view.description}</h1>
          <p class="muted">
            <code>{view.workflowId}</code>
          </p>
        </div>
        <LiveIndicator mode={shownMode} />
      </div>

      <section class="card summary">
        <div class="facts">
          <Fact name="Status">
            <StatusBadge status={view.status} testId="workflow-status" />
          </Fact>
          <Fact name="Progress">
            <span class="progress" data-testid="progress">
              <span class="bar">
                <span style={{ width: `${progress.percent}%` }} />
              </span>
              {progress.completed}/{progress.total} subtasks
            </span>
          </Fact>
          <Fact name="Priority">
            <span class={`priority priority-${view.priority}`}>{view.priority.toLowerCase()}</span>
          </Fact>
          <Fact name="Complexity">{view.complexity?.toLowerCase() ?? '—'}</Fact>
          <Fact name="Plan">{view.plan ? `${view.plan.phases.length} phases · risk ${view.plan.risk} · ${view.plan.estimatedHours} h est.` : '—'}</Fact>
          <Fact name="Created">{clockTime(view.createdAt)}</Fact>
          <Fact name={isTerminal(view.status) ? 'Took' : 'Running for'}>{duration(view.createdAt, view.completedAt)}</Fact>
        </div>
        <div class="buttons">
          {commands.map(({ command, text, tone, confirm: confirmText }) => (
            <button
              key={command}
              class={`btn ${tone}`}
              data-testid={`btn-${command}`}
              disabled={!allowed[command] || busy !== null}
              onClick={() => void run(command, confirmText)}
            >
              {busy === command ? `${text}…` : text}
            </button>
          ))}
        </div>
        {view.approvalStage === 'plan' && (
          <div class="note note-warn" data-testid="approval-note">
            The plan needs approval before any subtask runs ({view.plan?.risk ?? 'unknown'} risk). Approve to start it, or reject it.
          </div>
        )}
        {view.approvalStage === 'delivery' && (
          <div class="note note-warn" data-testid="approval-note">
            Every subtask passed. This workflow waits for a reviewer to approve or reject its delivery.
          </div>
        )}
        {view.failureReason && <div class="note note-error">{view.failureReason}</div>}
        <ErrorNote error={error} />
      </section>

      <Card title="Plan" actions={<Legend />}>
        <Dag view={view} selected={selected} onSelect={setSelected} />
      </Card>

      <Card title="Subtasks and attempts">
        <AttemptsTable view={view} changes={changes} selected={selected} onSelect={setSelected} />
      </Card>
    </div>
  );
}

function Fact({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <span class="fact-name">{name}</span>
      <span class="fact-value">{children}</span>
    </div>
  );
}

function Legend() {
  return (
    <span class="legend">
      {['pending', 'ready', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled'].map((s) => (
        <span key={s}>
          <span class={`dot status-${s}`} />
          {s.replace('_', ' ')}
        </span>
      ))}
    </span>
  );
}
