import type { StateChangeRecord } from '../api/stream.js';
import type { WorkflowView } from './types.js';

interface SubtaskPlace {
  phase: string | null;
  specialty: string | null;
}

/** What a watcher knows of a workflow: where each subtask sits (from the view), its status (from the events). */
export interface Progress {
  workflowId: string;
  status: string;
  /** The plan's phases in order. */
  phases: string[];
  places: Map<string, SubtaskPlace>;
  statuses: Map<string, string>;
}

export function progressOf(view: WorkflowView): Progress {
  const progress: Progress = { workflowId: view.workflowId, status: view.status, phases: [], places: new Map(), statuses: new Map() };
  learnPlan(progress, view);
  // The view's statuses count until the stream replays the history (it may have been pruned).
  for (const s of view.subtasks) progress.statuses.set(s.id, s.status);
  return progress;
}

/** Takes the phases and each subtask's place from a fresher view. */
export function learnPlan(progress: Progress, view: WorkflowView): void {
  progress.phases = view.plan?.phases.map((p) => p.phase) ?? progress.phases;
  for (const s of view.subtasks) progress.places.set(s.id, { phase: s.phase, specialty: s.specialty });
}

/** Applies one change; true when it names a subtask whose place is unknown (a fresher view tells it). */
export function applyChange(progress: Progress, change: StateChangeRecord): boolean {
  if (change.kind === 'workflow') {
    // The workflow's creation: the history replays from here, so counts start over.
    if (change.previousStatus === null) progress.statuses.clear();
    progress.status = change.status;
    return false;
  }
  const id = change.subtaskId ?? '?';
  progress.statuses.set(id, change.status);
  return !progress.places.has(id);
}

export function summarize(progress: Progress) {
  const all = [...progress.statuses].map(([id, status]) => ({ status, phase: progress.places.get(id)?.phase ?? null }));
  const count = (status: string) => all.filter((s) => s.status === status).length;
  const open = all.filter((s) => !['completed', 'cancelled'].includes(s.status));
  // The current phase is the first one in plan order with work still open.
  const phase = progress.phases.find((p) => open.some((s) => s.phase === p)) ?? open.find((s) => s.phase)?.phase ?? null;
  return { total: all.length, done: count('completed'), running: count('in_progress'), failed: count('failed'), phase };
}

export function bar(done: number, total: number, width: number): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** The one line a terminal redraws: status, bar, done/total, phase. */
export function progressLine(progress: Progress, columns = 80): string {
  const { total, done, running, failed, phase } = summarize(progress);
  const percent = total === 0 ? 0 : Math.round((done / total) * 100);
  const parts = [
    progress.status,
    `${bar(done, total, 20)} ${done}/${total} subtasks ${percent}%`,
    phase ? `phase ${phase}` : '',
    running ? `${running} running` : '',
    failed ? `${failed} failed` : '',
  ];
  const line = parts.filter(Boolean).join('  ');
  return line.length < columns ? line : `${line.slice(0, Math.max(0, columns - 2))}…`;
}

const fmt = (value: number | null) => (value === null ? '' : value.toFixed(2));

/** One line per change, for logs and pipes. */
export function changeLine(progress: Progress, change: StateChangeRecord): string {
  const { total, done, phase } = summarize(progress);
  // A change that keeps the status (an assignment) shows the status once.
  const moved = change.previousStatus === change.status ? change.status : `${change.previousStatus ?? 'new'} -> ${change.status}`;
  if (change.kind === 'workflow')
    return `[${done}/${total}] workflow ${moved}${phase ? `  phase ${phase}` : ''}${change.error ? `  error: ${change.error}` : ''}`;
  const subtask = progress.places.get(change.subtaskId ?? '');
  const where = [subtask?.phase, subtask?.specialty].filter(Boolean).join(', ');
  const details = [
    change.agentId ? `agent ${change.agentId}` : '',
    change.attempt ? `attempt ${change.attempt}` : '',
    change.quality !== null ? `quality ${fmt(change.quality)}` : '',
    change.error ? `error: ${change.error}` : '',
  ].filter(Boolean);
  return `[${done}/${total}] subtask ${change.subtaskId}${where ? ` (${where})` : ''} ${moved}${details.length ? `  ${details.join('  ')}` : ''}`;
}
