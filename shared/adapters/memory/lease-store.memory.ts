import type { Clock } from '../../ports/clock.port.js';
import type { Lease, LeaseStore } from '../../ports/lease-store.port.js';

/**
 * Leases with fencing tokens. A lease that expired stays visible (get, listExpired) until it is
 * released or taken over, so the recovery loop can find the work it guarded.
 */
export function createMemoryLeaseStore(clock: Clock): LeaseStore {
  const leases = new Map<string, Lease>();
  // Kept apart from the leases: a released key must never hand out a token again.
  const lastToken = new Map<string, number>();

  const isLive = (lease: Lease | undefined, now: number): lease is Lease => lease !== undefined && lease.expiresAt > now;
  const current = (key: string, token: number): Lease | undefined => {
    const lease = leases.get(key);
    return lease?.token === token ? lease : undefined;
  };

  return {
    async acquire(key, holder, ttlMs) {
      const now = clock.now();
      const existing = leases.get(key);
      if (isLive(existing, now)) {
        if (existing.holder !== holder) return null;
        existing.expiresAt = now + ttlMs;
        return { ...existing };
      }
      const token = (lastToken.get(key) ?? 0) + 1;
      lastToken.set(key, token);
      const lease = { key, holder, token, expiresAt: now + ttlMs };
      leases.set(key, lease);
      return { ...lease };
    },

    async renew(key, token, ttlMs) {
      const now = clock.now();
      const lease = current(key, token);
      // An expired lease is lost even before someone takes it over: recovery may already act on it.
      if (!isLive(lease, now)) return false;
      lease.expiresAt = now + ttlMs;
      return true;
    },

    async reclaim(key, holder, token, ttlMs) {
      if (leases.has(key) || (lastToken.get(key) ?? 0) >= token) return false;
      lastToken.set(key, token);
      leases.set(key, { key, holder, token, expiresAt: clock.now() + ttlMs });
      return true;
    },

    async renewHolder(holder, ttlMs) {
      const now = clock.now();
      let renewed = 0;
      for (const lease of leases.values()) {
        if (lease.holder !== holder || !isLive(lease, now)) continue;
        lease.expiresAt = now + ttlMs;
        renewed += 1;
      }
      return renewed;
    },

    async release(key, token) {
      if (!current(key, token)) return false;
      leases.delete(key);
      return true;
    },

    async get(key) {
      const lease = leases.get(key);
      return lease ? { ...lease } : null;
    },

    async listExpired(now, limit) {
      return [...leases.values()]
        .filter((lease) => lease.expiresAt <= now)
        .sort((a, b) => a.expiresAt - b.expiresAt || a.key.localeCompare(b.key))
        .slice(0, limit)
        .map((lease) => ({ ...lease }));
    },

    async nextExpiry(after) {
      const later = [...leases.values()].map((lease) => lease.expiresAt).filter((at) => at > after);
      return later.length > 0 ? Math.min(...later) : null;
    },

    async close() {},
  };
}
