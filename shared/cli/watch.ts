import { stateChangeSchema, type StateChangeRecord } from '../api/stream.js';
import type { ApiClient } from './http-client.js';
import type { CliIo } from './io.js';
import { applyChange, changeLine, learnPlan, progressLine, progressOf, summarize, type Progress } from './progress.js';
import { followSse } from './sse.js';
import type { WorkflowView } from './types.js';
import { approvalStageOf } from '../domain/approval.js';
import type { Subtask } from '../domain/workflow.js';

const clearLine = '\r\x1b[2K';

/** How a watch shows changes: nothing (--json), a redrawn line (terminal), or one line per change (pipe). */
function renderer(io: CliIo, json: boolean) {
  if (json) return { change: () => undefined, clear: () => undefined };
  const note = (progress: Progress, change: StateChangeRecord) => {
    if (change.kind !== 'workflow' || change.status !== 'awaiting_approval') return null;
    const stage = approvalStageOf(
      { status: change.status },
      [...progress.statuses.values()].map((status) => ({ status: status as Subtask['status'] })),
    );
    return `workflow awaits ${stage} approval: amas approve ${progress.workflowId} (or reject)`;
  };
  if (!io.isTTY) {
    return {
      change(progress: Progress, change: StateChangeRecord) {
        io.out(`${changeLine(progress, change)}\n`);
        const hint = note(progress, change);
        if (hint) io.out(`${hint}\n`);
      },
      clear: () => undefined,
    };
  }
  return {
    change(progress: Progress, change: StateChangeRecord) {
      // Failures and waits stay on screen above the redrawn line.
      const lasting = change.status === 'failed' || change.error ? changeLine(progress, change) : note(progress, change);
      io.out(`${clearLine}${lasting ? `${lasting}\n` : ''}${progressLine(progress, io.columns)}`);
    },
    clear: () => io.out(clearLine),
  };
}

/**
 * Follows a workflow's event stream to its end, showing progress; prints the final state.
 * Exit code 0 when it completed, 1 when it failed or was cancelled.
 */
export async function watchWorkflow(client: ApiClient, workflowId: string, io: CliIo, options: { json: boolean }): Promise<number> {
  const path = `/v1/workflows/${encodeURIComponent(workflowId)}`;
  const progress = progressOf(await client.get<WorkflowView>(path));
  const render = renderer(io, options.json);
  await followSse(client, `${path}/events`, {
    async onEvent(event) {
      if (event.event === 'end') return 'stop';
      if (event.event !== 'change') return;
      const change = parseChange(event.data);
      if (!change || change.workflowId !== workflowId) return;
      // A new subtask: the view tells its phase (decomposition creates them all at once, so one read suffices).
      if (applyChange(progress, change)) learnPlan(progress, await client.get<WorkflowView>(path));
      render.change(progress, change);
    },
  });
  render.clear();
  const view = await client.get<WorkflowView>(path);
  if (options.json) io.out(`${JSON.stringify(view, null, 2)}\n`);
  else {
    const { total, done } = summarize(progressOf(view));
    io.out(`${view.workflowId} ${view.status}: ${done}/${total} subtasks completed\n`);
    if (view.status !== 'completed') io.out(`reason: ${view.failureReason ?? 'none given'}\n`);
  }
  return view.status === 'completed' ? 0 : 1;
}

function parseChange(data: string): StateChangeRecord | null {
  try {
    const parsed = stateChangeSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
