import type { Command } from 'commander';
import { action, pathId, printJson, type ExitCode } from '../context.js';
import type { CliIo } from '../io.js';
import type { WorkflowView } from '../types.js';

const commands = [
  { name: 'cancel', description: 'cancel a workflow', reason: true },
  { name: 'pause', description: 'pause a workflow: running subtasks finish, no new ones start', reason: false },
  { name: 'resume', description: 'resume a paused workflow', reason: false },
  { name: 'approve', description: 'approve a workflow awaiting approval', reason: false },
  { name: 'reject', description: 'reject a workflow awaiting approval', reason: true },
] as const;

/** cancel | pause | resume | approve | reject ID: POST /v1/workflows/:id/<command>, print the new status. */
export function registerControlCommands(program: Command, io: CliIo, exit: ExitCode): void {
  for (const spec of commands) {
    const command = program.command(spec.name).description(spec.description).argument('<id>', 'workflow id');
    if (spec.reason) command.option('--reason <text>', 'why (kept with the workflow)');
    command.option('--json', 'print the workflow as JSON').action(
      action<{ reason?: string; json?: boolean }>(io, exit, async ({ args, options, client }) => {
        const view = await client().post<WorkflowView>(`/v1/workflows/${pathId(args[0]!)}/${spec.name}`, options.reason ? { reason: options.reason } : {});
        if (options.json) printJson(io, view);
        else io.out(`${view.workflowId} ${view.status}\n`);
        return 0;
      }),
    );
  }
}
