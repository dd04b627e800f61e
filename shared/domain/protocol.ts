/** The lease that fences a subtask's current attempt. */
export const leaseKeyOf = (subtaskId: string): string => `subtask:${subtaskId}`;
/** The agent slot one attempt of a subtask takes (reserve and release are idempotent per key). */
export const workKeyOf = (subtaskId: string, attempt: number): string => `${subtaskId}#${attempt}`;

export const subtaskOfLeaseKey = (key: string): string => key.replace(/^subtask:/, '');
export function parseWorkKey(workKey: string): { subtaskId: string; attempt: number } {
  const at = workKey.lastIndexOf('#');
  return { subtaskId: workKey.slice(0, at), attempt: Number(workKey.slice(at + 1)) };
}

/**
 * A lease outlives this many missed renewals before the recovery loop takes the work back. Leases
 * are independent of the health heartbeat: agents renew the leases of their work in hand every
 * `ORCHESTRATION_LEASE_TTL_SECONDS / MISSED_RENEWALS_BEFORE_EXPIRY` (2 s at the default 6 s), and
 * report health every `ORCHESTRATION_HEARTBEAT_INTERVAL` (60 s), so lost work is re-run within
 * seconds while health reports stay rare.
 */
export const MISSED_RENEWALS_BEFORE_EXPIRY = 3;
/** An agent silent for this many heartbeat intervals is unhealthy (assign skips it; recovery may mark it OFFLINE). */
export const MISSED_HEARTBEATS_BEFORE_UNHEALTHY = 3;

export interface LeaseSettings {
  ORCHESTRATION_LEASE_TTL_SECONDS: number;
}
/** How long dispatch's lease (and each renewal) lives. */
export const leaseTtlMs = (config: LeaseSettings): number => Math.round(config.ORCHESTRATION_LEASE_TTL_SECONDS * 1000);
/** How often an agent renews the leases of its work in hand. */
export const leaseRenewalMs = (config: LeaseSettings): number => Math.max(1, Math.floor(leaseTtlMs(config) / MISSED_RENEWALS_BEFORE_EXPIRY));
/** How long after its last heartbeat an agent counts as silent (health verdicts, not leases). */
export const heartbeatTimeoutMs = (config: { ORCHESTRATION_HEARTBEAT_INTERVAL: number }): number =>
  Math.round(config.ORCHESTRATION_HEARTBEAT_INTERVAL * 1000 * MISSED_HEARTBEATS_BEFORE_UNHEALTHY);
