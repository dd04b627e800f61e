/**
 * Agent pools per tenant: an agent with a tenant serves only that tenant's workflows; one without
 * (demo agents, bus agents, agents an every-tenant principal registered) is shared by all tenants.
 * `tenant` undefined asks for every agent (an every-tenant reader).
 */
export const servesTenant = (agent: { tenant?: string }, tenant: string | undefined): boolean =>
  tenant === undefined || agent.tenant === undefined || agent.tenant === tenant;

/** What the agent directory says of an agent's tenant; null when it lists no such agent. */
export type Tenancy = { tenant?: string } | null;

/**
 * Whether a message from `sender` may reach `recipient`. A shared sender (or one the directory does
 * not list: the orchestrator, a process holding the deployment's signing secret) reaches anyone; a
 * tenant's agent reaches only listed agents of its tenant and the shared ones, so it can neither talk
 * to nor discover another tenant's agents.
 */
export const mayMessage = (sender: Tenancy, recipient: Tenancy): boolean =>
  sender?.tenant === undefined || (recipient !== null && servesTenant(recipient, sender.tenant));
