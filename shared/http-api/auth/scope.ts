import type { Workflow } from '../../domain/workflow.js';
import { allTenants, type Principal } from './principal.js';
import { readsOwnOnly } from './roles.js';

/** The metadata key that records who submitted a workflow (the principal's subject). */
export const submittedByKey = 'submittedBy';

export type Visible = Pick<Workflow, 'tenant' | 'metadata'>;

/**
 * Whether the principal may see the workflow at all. Callers answer 404 when not, exactly as for a
 * workflow that does not exist: another tenant's ids must not be discoverable.
 */
export function canSee(principal: Principal, workflow: Visible): boolean {
  if (principal.tenant !== allTenants && workflow.tenant !== principal.tenant) return false;
  return !readsOwnOnly(principal) || workflow.metadata[submittedByKey] === principal.subject;
}

/** The store filters of a list: null where the principal sees everything. */
export function listScope(principal: Principal): { tenant?: string; submittedBy?: string } {
  return {
    ...(principal.tenant === allTenants ? {} : { tenant: principal.tenant }),
    ...(readsOwnOnly(principal) ? { submittedBy: principal.subject } : {}),
  };
}

/** True when nothing needs filtering (none mode, an every-tenant admin). */
export const seesEverything = (principal: Principal): boolean => principal.tenant === allTenants && !readsOwnOnly(principal);

/** The tenant whose agents (its own and the shared ones) the principal sees; undefined: every agent. */
export const agentScope = (principal: Principal): string | undefined => (principal.tenant === allTenants ? undefined : principal.tenant);
