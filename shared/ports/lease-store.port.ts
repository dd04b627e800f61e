export interface Lease {
  key: string;
  holder: string;
  /** Fencing token: strictly increasing per key across every acquisition, never reused. */
  token: number;
  expiresAt: number;
}

export interface LeaseStore {
  /**
   * Takes the lease for `holder`. Re-acquiring a live lease one already holds extends it and keeps
   * its token (so a redelivered dispatch is harmless); a live lease of another holder gives null.
   */
  acquire(key: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease if `token` is still current; false means it was lost. */
  renew(key: string, token: number, ttlMs: number): Promise<boolean>;
  /**
   * Takes back, for `holder` that still works under it, a lease the store lost with its memory (a
   * Redis restart without persistence): only when the key has no lease at all and the store has
   * handed out no token as high as `token` since. Anything else (a lease, live or expired, or a
   * later token) gives false: the work belongs to whoever holds it, or recovery re-runs it.
   */
  reclaim(key: string, holder: string, token: number, ttlMs: number): Promise<boolean>;
  /** Extends every live lease of `holder` (agent heartbeat); returns how many. */
  renewHolder(holder: string, ttlMs: number): Promise<number>;
  /** Releases if `token` is current; a stale token changes nothing. */
  release(key: string, token: number): Promise<boolean>;
  get(key: string): Promise<Lease | null>;
  /** Leases whose time ran out and that nobody released (for the recovery loop). */
  listExpired(now: number, limit: number): Promise<Lease[]>;
  /**
   * The earliest expiry later than `after` among unreleased leases, or null: the recovery loop
   * wakes then instead of polling. Optional; without it recovery polls.
   */
  nextExpiry?(after: number): Promise<number | null>;
  close(): Promise<void>;
}
