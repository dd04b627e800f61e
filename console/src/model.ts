import type { Change, Command, SubtaskStatus, WorkflowStatus, WorkflowView } from './api.js';
import { progressOf } from '../../shared/http-api/workflow-view.js';
import { approvalStageOf } from '../../shared/domain/approval.js';

/** Every workflow status, in the order of a workflow's life (a Record keeps the list exhaustive). */
const workflowStatusOrder: Record<WorkflowStatus, number> = {
  pending: 0,
  planned: 1,
  awaiting_approval: 2,
  running: 3,
  paused: 4,
  completed: 5,
  failed: 6,
  cancelled: 7,
};
export const workflowStatuses = Object.keys(workflowStatusOrder) as WorkflowStatus[];
export const isTerminal = (status: string) => status === 'completed' || status === 'failed' || status === 'cancelled';

const subtaskLabels: Record<SubtaskStatus, string> = {
  pending: 'pending',
  ready: 'ready',
  in_progress: 'in progress',
  blocked: 'blocked',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};
export const label = (status: string) => subtaskLabels[status as SubtaskStatus] ?? status.replace(/_/g, ' ');

/** Which buttons a workflow in this status offers. */
export function commandsFor(status: WorkflowStatus): Record<Command, boolean> {
  return {
    pause: status === 'running' || status === 'planned',
    resume: status === 'paused',
    cancel: !isTerminal(status),
    approve: status === 'awaiting_approval',
    reject: status === 'awaiting_approval',
  };
}

/** The view with one streamed change applied: statuses move at once, the next reload brings the rest. */
export function applyChange(view: WorkflowView, change: Change): WorkflowView {
  if (change.workflowId !== view.workflowId) return view;
  if (change.kind === 'workflow') {
    const status = change.status as WorkflowStatus;
    return { ...view, status, approvalStage: approvalStageOf({ status }, view.subtasks) };
  }
  const subtasks = view.subtasks.map((s) =>
    s.id !== change.subtaskId
      ? s
      : {
          ...s,
          status: change.status as SubtaskStatus,
          assignedAgent: change.agentId ?? s.assignedAgent,
          attempts: change.attempt ?? s.attempts,
          quality: change.quality ?? s.quality,
          lastError: change.error ?? s.lastError,
        },
  );
  return { ...view, subtasks, progress: progressOf(subtasks), approvalStage: approvalStageOf(view, subtasks) };
}

/** One attempt of a subtask, as the change stream tells it. */
export interface Attempt {
  attempt: number;
  agentId: string | null;
  /** in_progress while running; else how it ended (`ready` or `pending`: handed back for a retry). */
  outcome: string;
  quality: number | null;
  error: string | null;
  /** When the subtask became ready before this attempt: the wait for an agent. */
  readyAt: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface SubtaskTimeline {
  createdAt: string | null;
  attempts: Attempt[];
}

/** Each subtask's attempts with their timings, derived from its changes (given in commit order). */
export function timelines(changes: readonly Change[]): Map<string, SubtaskTimeline> {
  const byId = new Map<string, SubtaskTimeline & { readyAt: string | null }>();
  for (const change of changes) {
    if (change.kind !== 'subtask' || change.subtaskId === null) continue;
    let line = byId.get(change.subtaskId);
    if (!line) byId.set(change.subtaskId, (line = { createdAt: change.previousStatus === null ? change.at : null, attempts: [], readyAt: null }));
    const open = line.attempts.at(-1)?.endedAt === null ? line.attempts.at(-1) : undefined;
    if (change.status === 'in_progress') {
      if (open && open.attempt === change.attempt) continue;
      if (open) Object.assign(open, { endedAt: change.at, outcome: 'superseded' });
      line.attempts.push({
        attempt: change.attempt ?? line.attempts.length + 1,
        agentId: change.agentId,
        outcome: 'in_progress',
        quality: null,
        error: null,
        readyAt: line.readyAt,
        startedAt: change.at,
        endedAt: null,
      });
    } else {
      if (change.status === 'ready' && change.status !== change.previousStatus) line.readyAt = change.at;
      if (open) Object.assign(open, { endedAt: change.at, outcome: change.status, quality: change.quality, error: change.error });
    }
  }
  return new Map([...byId].map(([id, { createdAt, attempts }]) => [id, { createdAt, attempts }]));
}

/** `1.2 s`, `340 ms`, `3 min 4 s` between two ISO times (or until now). */
export function duration(from: string | null, to: string | null, now = Date.now()): string {
  if (from === null) return '—';
  const ms = (to === null ? now : Date.parse(to)) - Date.parse(from);
  if (ms < 1000) return `${Math.max(0, ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** `12:03:04` today, `5 Dec 12:03` otherwise. */
export function clockTime(iso: string | null): string {
  if (iso === null) return '—';
  const at = new Date(iso);
  const sameDay = at.toDateString() === new Date().toDateString();
  return sameDay
    ? at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
    : at.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false });
}

/** `4 s ago`, `3 min ago`. */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}
