import type { Command } from 'commander';
import { action, pathId, printJson, type ExitCode } from '../context.js';
import type { CliIo } from '../io.js';
import { renderTable } from '../table.js';
import type { DeadLetterList } from '../types.js';

/** `amas dlq list [--topic t]` and `amas dlq redrive ID`. */
export function registerDeadLetterCommands(program: Command, io: CliIo, exit: ExitCode): void {
  const dlq = program.command('dlq').description('dead letters: records a function could not process');
  dlq
    .command('list')
    .description('dead letters, newest first')
    .option('--topic <topic>', 'only this orchestration topic (e.g. amas.subtasks.completed)')
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ topic?: string; json?: boolean }>(io, exit, async ({ options, client }) => {
        const list = await client().get<DeadLetterList>(`/v1/dead-letters${options.topic ? `?${new URLSearchParams({ topic: options.topic })}` : ''}`);
        if (options.json) {
          printJson(io, list);
          return 0;
        }
        io.out(
          renderTable(
            [
              { header: 'id', value: (l) => l.id },
              { header: 'topic', value: (l) => l.topic },
              { header: 'at', value: (l) => l.at },
              { header: 'consumer', value: (l) => l.consumer },
              { header: 'code', value: (l) => l.code },
              { header: 'reason', value: (l) => l.reason, max: 60 },
              { header: 'redriven', value: (l) => l.redrivenAt },
            ],
            list.deadLetters,
          ),
        );
        io.out(`${list.deadLetters.length} of ${list.total} dead letters\n`);
        return 0;
      }),
    );
  dlq
    .command('redrive')
    .description("publish a dead letter's original record to its topic again")
    .argument('<id>', 'dead letter id')
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ json?: boolean }>(io, exit, async ({ args, options, client }) => {
        const answer = await client().post<{ id: string; topic: string; redrivenAt: string }>(`/v1/dead-letters/${pathId(args[0]!)}/redrive`);
        if (options.json) printJson(io, answer);
        else io.out(`${answer.id} re-driven to ${answer.topic} at ${answer.redrivenAt}\n`);
        return 0;
      }),
    );
}
