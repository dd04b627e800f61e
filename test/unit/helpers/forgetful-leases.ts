import { createMemoryLeaseStore } from '../../../shared/adapters/memory/lease-store.memory.js';
import type { Clock, LeaseStore } from '../../../shared/ports/index.js';

/** Memory leases that can lose every record at once, as Redis does when it restarts without persistence. */
export function forgetfulLeaseStore(clock: Clock): LeaseStore & { forget(): void } {
  let memory = createMemoryLeaseStore(clock);
  return {
    acquire: (key, holder, ttlMs) => memory.acquire(key, holder, ttlMs),
    renew: (key, token, ttlMs) => memory.renew(key, token, ttlMs),
    reclaim: (key, holder, token, ttlMs) => memory.reclaim(key, holder, token, ttlMs),
    renewHolder: (holder, ttlMs) => memory.renewHolder(holder, ttlMs),
    release: (key, token) => memory.release(key, token),
    get: (key) => memory.get(key),
    listExpired: (now, limit) => memory.listExpired(now, limit),
    nextExpiry: (after) => memory.nextExpiry!(after),
    close: () => memory.close(),
    forget: () => void (memory = createMemoryLeaseStore(clock)),
  };
}
