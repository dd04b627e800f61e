import { Command, CommanderError } from 'commander';
import { OrchestrationError } from '../errors.js';
import { registerAgentCommands } from './commands/agents.js';
import { registerHistoryCommands } from './commands/attempts.js';
import { registerControlCommands } from './commands/control.js';
import { registerDeadLetterCommands } from './commands/dlq.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerSetupCommands } from './commands/setup.js';
import { registerWorkflowCommands } from './commands/workflows.js';
import type { ExitCode } from './context.js';
import { defaultUrl } from './http-client.js';
import type { CliIo } from './io.js';

/** The `amas` command tree; output goes to `io`, and errors throw instead of exiting the process. */
export function createProgram(io: CliIo, exit: ExitCode): Command {
  const program = new Command('amas')
    .description('submit, watch and steer AMAS workflows (an HTTP client of the API), and run local maintenance')
    .option('--url <url>', `the API (env AMAS_URL, default ${defaultUrl})`)
    .option('--token <token>', 'bearer token sent as Authorization (env AMAS_TOKEN)')
    // Set before the subcommands are added: they inherit these settings.
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .configureHelp({ styleTitle: (title) => title.toLowerCase(), showGlobalOptions: true })
    .showHelpAfterError();
  registerWorkflowCommands(program, io, exit);
  registerHistoryCommands(program, io, exit);
  registerControlCommands(program, io, exit);
  registerAgentCommands(program, io, exit);
  registerDeadLetterCommands(program, io, exit);
  registerKeyCommands(program, io, exit);
  registerReplayCommand(program, io, exit);
  registerSetupCommands(program, io, exit);
  program.addHelpText(
    'after',
    '\nexit codes: 0 ok, 1 failed (workflow failed or cancelled, API error, server unreachable, replay diverged), 2 usage or configuration\n',
  );
  return program;
}

/** Runs one command line; returns the exit code (0 ok, 1 failed or diverged, 2 bad arguments or configuration). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const exit: ExitCode = { code: 0 };
  if (argv.length === 0) io.err('error: no command given\n\n');
  try {
    await createProgram(io, exit).parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message and the usage.
      return error.exitCode === 0 ? 0 : 2;
    }
    io.err(`amas: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof OrchestrationError && error.code === 'CONFIG_INVALID' ? 2 : 1;
  }
}
