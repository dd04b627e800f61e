import type { Command } from 'commander';
import { action, printJson, type ExitCode } from '../context.js';
import type { CliIo } from '../io.js';
import { decimal, renderTable } from '../table.js';
import type { AgentList, HierarchyStatus } from '../types.js';

/** `amas agents`: every registered agent, then the hierarchy's layers, pools and health. */
export function registerAgentCommands(program: Command, io: CliIo, exit: ExitCode): void {
  program
    .command('agents')
    .description('the registered agents and a summary of the hierarchy')
    .option('--json', 'print {agents, hierarchy} as JSON')
    .action(
      action<{ json?: boolean }>(io, exit, async ({ options, client }) => {
        const api = client();
        const [{ agents }, hierarchy] = await Promise.all([api.get<AgentList>('/v1/agents'), api.get<HierarchyStatus>('/v1/hierarchy')]);
        if (options.json) {
          printJson(io, { agents, hierarchy });
          return 0;
        }
        io.out(
          renderTable(
            [
              { header: 'id', value: (a) => a.id },
              { header: 'layer', value: (a) => a.layer.toLowerCase() },
              { header: 'role', value: (a) => a.role ?? a.specialties.join(','), max: 40 },
              { header: 'status', value: (a) => a.status.toLowerCase() },
              { header: 'load', value: (a) => `${a.load}/${a.capacity}`, align: 'right' },
              { header: 'done', value: (a) => a.completed, align: 'right' },
              { header: 'failed', value: (a) => a.failed, align: 'right' },
              { header: 'quality', value: (a) => (a.completed + a.failed > 0 ? decimal(a.averageQuality) : null), align: 'right' },
            ],
            agents,
          ),
        );
        io.out(`\n${describeHierarchy(hierarchy)}`);
        return 0;
      }),
    );
}

function describeHierarchy(h: HierarchyStatus): string {
  const layers = Object.entries(h.layers).map(([layer, s]) => `${layer.toLowerCase()} ${s.count} (${s.available} available)`);
  const pools = Object.entries(h.pools).map(([group, p]) => `${group} ${p.count} (load ${p.load}/${p.capacity})`);
  const { healthy, degraded, failed, offline } = h.health;
  return (
    [
      `${h.totalAgents} agents`,
      `  layers: ${layers.join(', ')}`,
      `  pools:  ${pools.join(', ')}`,
      `  health: ${healthy} healthy, ${degraded} degraded, ${failed} failed, ${offline} offline`,
    ].join('\n') + '\n'
  );
}
