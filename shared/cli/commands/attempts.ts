import type { Command } from 'commander';
import { attemptsResponseSchema, type SubtaskAttempt } from '../../api/attempts.js';
import { lineageResponseSchema, type LineageResponse } from '../../api/lineage.js';
import { action, pathId, printJson, type ExitCode } from '../context.js';
import type { CliIo } from '../io.js';
import { decimal, renderTable } from '../table.js';

export function registerHistoryCommands(program: Command, io: CliIo, exit: ExitCode): void {
  program
    .command('attempts')
    .description("every attempt of a workflow's subtasks: agent, token, outcome, duration, and why it ran again")
    .argument('<id>', 'workflow id')
    .option('--subtask <id>', "only this subtask's attempts")
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ subtask?: string; json?: boolean }>(io, exit, async ({ args, options, client }) => {
        const path = `/v1/workflows/${pathId(args[0]!)}${options.subtask ? `/subtasks/${pathId(options.subtask)}` : ''}/attempts`;
        const answer = attemptsResponseSchema.parse(await client().get(path));
        if (options.json) printJson(io, answer);
        else io.out(describeAttempts(answer.attempts));
        return 0;
      }),
    );

  program
    .command('lineage')
    .description('which subtask produced which output, by which agent and attempt, and what each subtask built on')
    .argument('<id>', 'workflow id')
    .option('--json', 'print the lineage graph (nodes and edges) as JSON')
    .action(
      action<{ json?: boolean }>(io, exit, async ({ args, options, client }) => {
        const lineage = lineageResponseSchema.parse(await client().get(`/v1/workflows/${pathId(args[0]!)}/lineage`));
        if (options.json) printJson(io, lineage);
        else io.out(describeLineage(lineage));
        return 0;
      }),
    );
}

/** `amas attempts`: one row per attempt. */
export function describeAttempts(attempts: readonly SubtaskAttempt[]): string {
  if (attempts.length === 0) return 'no attempts yet\n';
  return renderTable(
    [
      { header: 'subtask', value: (a) => a.subtaskId },
      { header: 'attempt', value: (a) => a.attempt, align: 'right' },
      { header: 'agent', value: (a) => a.agentId },
      { header: 'token', value: (a) => a.leaseToken, align: 'right' },
      { header: 'status', value: (a) => a.status },
      { header: 'quality', value: (a) => decimal(a.quality), align: 'right' },
      { header: 'ms', value: (a) => a.durationMs, align: 'right' },
      { header: 'started', value: (a) => a.startedAt },
      { header: 're-run because', value: (a) => a.reason, max: 40 },
      { header: 'error', value: (a) => a.error, max: 40 },
    ],
    attempts,
  );
}

/** `amas lineage`: per subtask, what it depended on and the outputs its attempts produced. */
export function describeLineage(lineage: LineageResponse): string {
  const targets = (type: string, from: string) => lineage.edges.filter((e) => e.type === type && e.from === from).map((e) => e.to);
  const lines: string[] = [];
  for (const node of lineage.nodes) {
    if (node.kind !== 'subtask') continue;
    const dependsOn = targets('DEPENDS_ON', node.id).map((id) => id.replace(/^subtask:/, ''));
    lines.push(`${node.subtaskId}  ${node.status}${dependsOn.length > 0 ? `  <- ${dependsOn.join(', ')}` : ''}`);
    for (const outputId of targets('PRODUCED', node.id)) {
      const output = lineage.nodes.find((n) => n.id === outputId);
      if (output?.kind !== 'output') continue;
      lines.push(`  ${output.ref}  by ${output.agentId}  quality ${decimal(output.quality)}  ${output.accepted ? 'accepted' : 'rejected'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
