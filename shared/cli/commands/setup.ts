import type { Command } from 'commander';
import { configKeys, loadConfig } from '../../config.js';
import { loadInfra } from '../../env.js';
import { createPgClient } from '../../adapters/sql/sql-client.pg.js';
import { runMigrations } from '../../adapters/sql/migrations.js';
import { action, type ExitCode } from '../context.js';
import { UsageError, type CliIo } from '../io.js';

/** `amas migrate` and `amas config`: local commands, no API needed. */
export function registerSetupCommands(program: Command, io: CliIo, exit: ExitCode): void {
  program
    .command('migrate')
    .description('apply the SQL migrations to DATABASE_URL')
    .action(
      action(io, exit, async () => {
        const { DATABASE_URL } = loadInfra(io.env);
        if (!DATABASE_URL) throw new UsageError('migrate needs DATABASE_URL (e.g. DATABASE_URL=postgres://user@host:5432/db amas migrate)');
        const client = createPgClient(DATABASE_URL);
        try {
          const applied = await runMigrations(client);
          io.out(applied.length > 0 ? `applied migrations ${applied.join(', ')}\n` : 'schema is up to date\n');
          return 0;
        } finally {
          await client.close();
        }
      }),
    );

  program
    .command('config')
    .description('print the effective configuration (exit 2 naming an invalid variable)')
    .action(
      action(io, exit, async () => {
        const effective = loadConfig(io.env);
        const infra = loadInfra(io.env);
        for (const key of configKeys) io.out(`${key}=${String(effective[key])}\n`);
        for (const [key, value] of Object.entries(infra))
          io.out(`${key}=${key === 'DATABASE_URL' ? String(value).replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@') : String(value)}\n`);
        return 0;
      }),
    );
}
