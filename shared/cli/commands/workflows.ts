import { Option, type Command } from 'commander';
import { prioritySchema, workflowStatusSchema } from '../../domain/vocabulary.js';
import { action, pathId, printJson, type ExitCode } from '../context.js';
import type { CliIo } from '../io.js';
import { integerIn, jsonObject } from '../parsers.js';
import { decimal, renderTable } from '../table.js';
import type { SubmitAnswer, WorkflowList, WorkflowView } from '../types.js';
import { watchWorkflow } from '../watch.js';
import { aiLines } from '../ai-lines.js';

interface SubmitOptions {
  priority: string;
  requireApproval?: boolean;
  metadata?: Record<string, unknown>;
  idempotencyKey?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerWorkflowCommands(program: Command, io: CliIo, exit: ExitCode): void {
  program
    .command('submit')
    .description('submit a task; prints the workflow id (--wait: follow it to the end)')
    .argument('<text>', 'what to do, in words')
    .addOption(new Option('--priority <level>', 'priority').choices(prioritySchema.options.map((p) => p.toLowerCase())).default('normal'))
    .option('--require-approval', 'hold the result for amas approve / reject')
    .option('--metadata <json>', 'a JSON object stored with the workflow', jsonObject)
    .option('--idempotency-key <key>', 'a repeated submit with this key answers with the first workflow')
    .option('--wait', 'follow live progress; exit 0 on completed, 1 on failed or cancelled')
    .option('--json', 'print JSON only (with --wait: the final workflow)')
    .action(
      action<SubmitOptions>(io, exit, async ({ args, options, client }) => {
        const api = client();
        const answer = await api.post<SubmitAnswer>('/v1/tasks', {
          description: args[0],
          priority: options.priority,
          requireApproval: options.requireApproval ?? false,
          ...(options.metadata ? { metadata: options.metadata } : {}),
          ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
        });
        if (options.json && !options.wait) printJson(io, answer);
        if (!options.json) io.out(`${answer.workflowId}\n`);
        if (!answer.created && !options.json) io.err(`(an existing workflow: idempotency key "${options.idempotencyKey}" was used before)\n`);
        return options.wait ? watchWorkflow(api, answer.workflowId, io, { json: options.json ?? false }) : 0;
      }),
    );

  program
    .command('watch')
    .description('follow a workflow live until it ends (exit 0 on completed, 1 on failed or cancelled)')
    .argument('<id>', 'workflow id')
    .option('--json', 'print only the final workflow as JSON')
    .action(action<{ json?: boolean }>(io, exit, async ({ args, options, client }) => watchWorkflow(client(), args[0]!, io, { json: options.json ?? false })));

  program
    .command('status')
    .description('a workflow and a table of its subtasks')
    .argument('<id>', 'workflow id')
    .option('--json', 'print the workflow as JSON')
    .action(
      action<{ json?: boolean }>(io, exit, async ({ args, options, client }) => {
        const view = await client().get<WorkflowView>(`/v1/workflows/${pathId(args[0]!)}`);
        if (options.json) printJson(io, view);
        else io.out(describeWorkflow(view));
        return 0;
      }),
    );

  program
    .command('list')
    .description('workflows, newest first')
    .addOption(new Option('--status <status>', 'only workflows in this status').choices(workflowStatusSchema.options))
    .option('--limit <n>', 'how many (1-500)', integerIn(1, 500), 50)
    .option('--offset <n>', 'skip this many', integerIn(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ status?: string; limit: number; offset: number; json?: boolean }>(io, exit, async ({ options, client }) => {
        const query = new URLSearchParams({
          limit: String(options.limit),
          offset: String(options.offset),
          ...(options.status ? { status: options.status } : {}),
        });
        const list = await client().get<WorkflowList>(`/v1/workflows?${query}`);
        if (options.json) {
          printJson(io, list);
          return 0;
        }
        io.out(
          renderTable(
            [
              { header: 'id', value: (w) => w.workflowId },
              { header: 'status', value: (w) => w.status },
              { header: 'priority', value: (w) => w.priority.toLowerCase() },
              { header: 'complexity', value: (w) => w.complexity?.toLowerCase() },
              { header: 'created', value: (w) => w.createdAt },
              { header: 'description', value: (w) => w.description, max: 60 },
            ],
            list.workflows,
          ),
        );
        const shown = list.workflows.length === 0 ? '0' : `${list.offset + 1}-${list.offset + list.workflows.length}`;
        io.out(`${shown} of ${list.total ?? '?'} workflows\n`);
        return 0;
      }),
    );
}

/** `amas status`: the workflow's headline, progress, then one row per subtask. */
export function describeWorkflow(view: WorkflowView): string {
  const { progress } = view;
  const lines = [
    `${view.workflowId}  ${view.status}  priority ${view.priority.toLowerCase()}${view.complexity ? `  complexity ${view.complexity.toLowerCase()}` : ''}`,
    `  ${view.description}`,
    `  progress: ${progress.completed}/${progress.total} completed (${progress.percent}%), ${progress.inProgress} in progress, ${progress.failed} failed`,
    `  created ${view.createdAt}${view.completedAt ? `, finished ${view.completedAt}` : ''}`,
  ];
  if (view.failureReason) lines.push(`  reason: ${view.failureReason}`);
  lines.push(...aiLines(view));
  if (view.approvalStage) lines.push(`  awaiting ${view.approvalStage} approval: amas approve ${view.workflowId} (or reject)`);
  const table = renderTable(
    [
      { header: 'id', value: (s) => s.id },
      { header: 'phase', value: (s) => s.phase },
      { header: 'specialty', value: (s) => s.specialty },
      { header: 'status', value: (s) => s.status },
      { header: 'agent', value: (s) => s.assignedAgent },
      { header: 'attempts', value: (s) => s.attempts, align: 'right' },
      { header: 'quality', value: (s) => decimal(s.quality), align: 'right' },
      { header: 'error', value: (s) => s.lastError, max: 50 },
    ],
    view.subtasks,
  );
  return `${lines.join('\n')}\n\n${table}`;
}
