import { mayMessage, type Tenancy } from '../domain/agent-tenancy.js';
import type { AgentDirectory } from '../ports/agent-directory.port.js';

export type TenancyOf = (agentId: string) => Promise<Tenancy>;

/** An agent's tenancy from the directory; `shared` ids (the orchestrator) are shared whether listed or not. */
export const tenancyFromDirectory =
  (directory: Pick<AgentDirectory, 'get'>, shared: readonly string[] = []): TenancyOf =>
  async (agentId) =>
    shared.includes(agentId) ? {} : await directory.get(agentId);

/**
 * Which of `recipients` a sender may reach (see mayMessage). Without a tenancy look-up every one:
 * a bus that knows no directory scopes nothing. A shared sender costs one look-up, a tenant's one
 * per recipient.
 */
export async function reachable(tenancyOf: TenancyOf | undefined, senderId: string, recipients: readonly string[]): Promise<string[]> {
  if (!tenancyOf || recipients.length === 0) return [...recipients];
  const sender = await tenancyOf(senderId);
  if (sender?.tenant === undefined) return [...recipients];
  const allowed = await Promise.all(recipients.map(async (id) => mayMessage(sender, await tenancyOf(id))));
  return recipients.filter((_, i) => allowed[i]);
}
