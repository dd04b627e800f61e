import { Option, type Command } from 'commander';
import type { ApiKeyRecord } from '../../ports/api-key-store.port.js';
import { roles } from '../../http-api/auth/principal.js';
import { action, pathId, printJson, type ExitCode } from '../context.js';
import type { CliIo } from '../io.js';
import { renderTable } from '../table.js';

/** `amas keys create|list|revoke`: API keys for AMAS_AUTH=keys (admin only: --token an admin key or AMAS_ADMIN_KEY). */
export function registerKeyCommands(program: Command, io: CliIo, exit: ExitCode): void {
  const keys = program.command('keys').description('API keys (AMAS_AUTH=keys): create, list, revoke; needs an admin credential');
  keys
    .command('create')
    .description('create a key; its secret is printed once and stored only hashed')
    .addOption(new Option('--role <role>', 'what the key may do').choices(roles).makeOptionMandatory())
    .requiredOption('--tenant <tenant>', 'the tenant whose workflows the key sees (* for every tenant)')
    .option('--name <name>', 'a label to recognise the key by')
    .option('--agent-id <id>', 'the agent an agent key speaks for')
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ role: string; tenant: string; name?: string; agentId?: string; json?: boolean }>(io, exit, async ({ options, client }) => {
        const { json, ...body } = options;
        const created = await client().post<ApiKeyRecord & { key: string }>('/v1/keys', body);
        if (json) printJson(io, created);
        else {
          io.out(`${created.key}\n`);
          io.err(`key ${created.id} (${created.role}, tenant ${created.tenant}) created: the line above is its secret, shown this once\n`);
        }
        return 0;
      }),
    );
  keys
    .command('list')
    .description('the keys (never their secrets), newest first')
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ json?: boolean }>(io, exit, async ({ options, client }) => {
        const list = await client().get<{ keys: ApiKeyRecord[] }>('/v1/keys');
        if (options.json) {
          printJson(io, list);
          return 0;
        }
        io.out(
          renderTable(
            [
              { header: 'id', value: (k) => k.id },
              { header: 'name', value: (k) => k.name, max: 30 },
              { header: 'role', value: (k) => k.role },
              { header: 'tenant', value: (k) => k.tenant },
              { header: 'agent', value: (k) => k.agentId },
              { header: 'created', value: (k) => k.createdAt },
              { header: 'revoked', value: (k) => k.revokedAt },
            ],
            list.keys,
          ),
        );
        return 0;
      }),
    );
  keys
    .command('revoke')
    .description('revoke a key: it is refused (401) from the next request on')
    .argument('<id>', 'key id (amas keys list)')
    .option('--json', 'print the answer as JSON')
    .action(
      action<{ json?: boolean }>(io, exit, async ({ args, options, client }) => {
        const revoked = await client().post<ApiKeyRecord>(`/v1/keys/${pathId(args[0]!)}/revoke`);
        if (options.json) printJson(io, revoked);
        else io.out(`key ${revoked.id} revoked at ${revoked.revokedAt}\n`);
        return 0;
      }),
    );
}
