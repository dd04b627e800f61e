import { z } from 'zod';
import { defaultTenant } from '../../domain/scheduling.js';

export const roleSchema = z.enum(['submitter', 'operator', 'approver', 'admin', 'agent']);
export type Role = z.infer<typeof roleSchema>;
export const roles = roleSchema.options;

/** A tenant name; `*` is every tenant (the bootstrap admin key, and `none` on loopback). */
export const tenantSchema = z
  .string()
  .regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,62})$/, 'letters, digits, dot, underscore and dash (up to 63), or * for every tenant');
export const allTenants = '*';
export { defaultTenant };

/** Who is calling, as every route sees it, whatever proved it. */
export interface Principal {
  /** Stable id of the caller: the token's `sub`, or `key:<id>`. */
  subject: string;
  roles: readonly Role[];
  tenant: string;
  /** What the rate limit counts against: one bucket per credential. */
  credential: string;
  via: 'none' | 'oidc' | 'key' | 'admin-key';
  agentId?: string;
}

/** A genuine credential that is still not accepted: the 401 gives the reason, so the caller can fix it. */
export interface Refusal {
  refused: string;
}

/** What a bearer token proves: a principal, a refusal with its reason, or null (invalid, expired, revoked). */
export type Verdict = Principal | Refusal | null;

/** `AMAS_AUTH=none`: the one local user may do everything (only ever on loopback). */
export const localPrincipal: Principal = { subject: 'local', roles: [...roles], tenant: allTenants, credential: 'local', via: 'none' };

/** The tenant new work of this principal belongs to. */
export const submitTenant = (principal: Principal): string => (principal.tenant === allTenants ? defaultTenant : principal.tenant);
