import type { Config } from '../config.js';

/** The tenant of work submitted without credentials (until authentication names one). */
export const defaultTenant = 'default';

/**
 * How waiting work is ranked for a freed slot (findWaitingSubtasks): workflow priority, raised one
 * rank per `agingSeconds` waited up to CRITICAL (so LOW never starves); within a rank re-runs of lost
 * work first, then the tenant using the fewest slots of the specialties for its weight (held now, or
 * left within the last aging period), then the longest waiting.
 */
export interface WaitingOrder {
  /** Ranks as of this time (ms): the caller's clock, the one that stamped the subtasks it made ready. */
  now: number;
  agingSeconds: number;
  /** A tenant not named weighs 1. */
  tenantWeights: Readonly<Record<string, number>>;
  /** Only this tenant's work: what a tenant's own agent may take (absent: every tenant's). */
  tenant?: string;
}

/** `acme=2, beta=0.5` (the form config.ts accepts) as weights by tenant; the last of a repeated name wins. */
export function parseTenantWeights(raw: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const [name = '', weight = ''] = pair.split('=').map((part) => part.trim());
    weights[name] = Number(weight);
  }
  return weights;
}

export const waitingOrderOf = (config: Pick<Config, 'ORCHESTRATION_PRIORITY_AGING_SECONDS' | 'ORCHESTRATION_TENANT_WEIGHTS'>, now: number): WaitingOrder => ({
  now,
  agingSeconds: config.ORCHESTRATION_PRIORITY_AGING_SECONDS,
  tenantWeights: parseTenantWeights(config.ORCHESTRATION_TENANT_WEIGHTS),
});
