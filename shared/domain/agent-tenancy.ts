/**
 * Agent pools per tenant: an agent with a tenant serves only that tenant's workflows; one without
 * (demo agents, bus agents, agents an every-tenant principal registered) is shared by all tenants.
 * `tenant` undefined asks for every agent (an every-tenant reader).
 */
export const servesTenant = (agent: { tenant?: string }, tenant: string | undefined): boolean =>
  tenant === undefined || agent.tenant === undefined || agent.tenant === tenant;
