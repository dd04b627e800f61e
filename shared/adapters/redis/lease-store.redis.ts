import { Redis, type RedisOptions } from 'ioredis';
import type { Lease, LeaseStore } from '../../ports/lease-store.port.js';
import { acquireScript, listExpiredScript, reclaimScript, releaseScript, renewHolderScript, renewScript } from './lease-scripts.js';

export interface RedisLeaseStoreOptions {
  /** Every key starts with it (default `amas:lease:`). For Redis Cluster put a hash tag in it, e.g. `{amas}:lease:`. */
  prefix?: string;
  /**
   * How long an expired, unreleased lease is kept for the recovery loop to find (default 1 h).
   * Redis deletes it afterwards so abandoned keys cannot pile up.
   */
  retainExpiredMs?: number;
  /** close() also quits the connection (default false: the caller may share it between stores). */
  quitOnClose?: boolean;
}

type Reply = Promise<unknown>;
interface LeaseCommands {
  amasLeaseAcquire(lease: string, fence: string, expiries: string, ...argv: (string | number)[]): Reply;
  amasLeaseRenew(lease: string, expiries: string, ...argv: (string | number)[]): Reply;
  amasLeaseReclaim(lease: string, fence: string, expiries: string, ...argv: (string | number)[]): Reply;
  amasLeaseRenewHolder(holderSet: string, expiries: string, ...argv: (string | number)[]): Reply;
  amasLeaseRelease(lease: string, expiries: string, ...argv: (string | number)[]): Reply;
  amasLeaseListExpired(expiries: string, ...argv: (string | number)[]): Reply;
}

/**
 * A client that fails fast while Redis is away, so the circuit breaker sees the outage quickly:
 * commands queued during a reconnect are rejected after two failed attempts, and no command
 * waits longer than `commandTimeout`.
 */
export function createRedisClient(url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    ...overrides,
  });
  // Connection errors surface on the commands (and the breaker); the event would only be logged twice.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * LeaseStore on Redis: one Lua script per operation, on the server's clock. The server decides
 * expiry for acquire/renew; listExpired uses min(caller's now, server's now), so a caller whose
 * clock runs ahead cannot make recovery act on a lease the server still considers live.
 *
 * Fencing tokens are max(last + 1, serverTimeMs × 1000) per key. Redis keeps nothing on disk here,
 * so a restart loses every lease and counter; the time component keeps new tokens above all
 * earlier ones as long as the server clock does not step back and no key is acquired more than
 * 1,000 times in one millisecond. Tokens stay below 2^53 until the year 2255.
 */
export function createRedisLeaseStore(redis: Redis, options: RedisLeaseStoreOptions = {}): LeaseStore {
  const prefix = options.prefix ?? 'amas:lease:';
  const retainMs = options.retainExpiredMs ?? 3_600_000;
  const leasePrefix = `${prefix}lease:`;
  const holderPrefix = `${prefix}holder:`;
  const expiries = `${prefix}expiries`;
  const leaseKey = (key: string) => leasePrefix + key;
  /** The last token handed out for the key (never deleted): acquire and reclaim both fence on it. */
  const fenceKey = (key: string) => `${prefix}fence:${key}`;

  redis.defineCommand('amasLeaseAcquire', { numberOfKeys: 3, lua: acquireScript });
  redis.defineCommand('amasLeaseRenew', { numberOfKeys: 2, lua: renewScript });
  redis.defineCommand('amasLeaseReclaim', { numberOfKeys: 3, lua: reclaimScript });
  redis.defineCommand('amasLeaseRenewHolder', { numberOfKeys: 2, lua: renewHolderScript });
  redis.defineCommand('amasLeaseRelease', { numberOfKeys: 2, lua: releaseScript });
  redis.defineCommand('amasLeaseListExpired', { numberOfKeys: 1, lua: listExpiredScript });
  const commands = redis as unknown as LeaseCommands;

  const ttl = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs));

  return {
    async acquire(key, holder, ttlMs) {
      const reply = (await commands.amasLeaseAcquire(leaseKey(key), fenceKey(key), expiries, key, holder, ttl(ttlMs), retainMs, holderPrefix)) as
        [string, string] | null;
      return reply ? { key, holder, token: Number(reply[0]), expiresAt: Number(reply[1]) } : null;
    },

    async renew(key, token, ttlMs) {
      return (await commands.amasLeaseRenew(leaseKey(key), expiries, key, token, ttl(ttlMs), retainMs, holderPrefix)) === 1;
    },

    async reclaim(key, holder, token, ttlMs) {
      const reply = await commands.amasLeaseReclaim(leaseKey(key), fenceKey(key), expiries, key, holder, String(token), ttl(ttlMs), retainMs, holderPrefix);
      return reply === 1;
    },

    async renewHolder(holder, ttlMs) {
      return Number(await commands.amasLeaseRenewHolder(holderPrefix + holder, expiries, holder, ttl(ttlMs), retainMs, leasePrefix));
    },

    async release(key, token) {
      return (await commands.amasLeaseRelease(leaseKey(key), expiries, key, token, holderPrefix)) === 1;
    },

    async get(key) {
      const [holder, token, expiresAt] = await redis.hmget(leaseKey(key), 'holder', 'token', 'expiresAt');
      if (holder == null || token == null || expiresAt == null) return null;
      return { key, holder, token: Number(token), expiresAt: Number(expiresAt) };
    },

    async listExpired(now, limit) {
      if (limit <= 0) return [];
      const flat = (await commands.amasLeaseListExpired(expiries, Math.floor(now), Math.floor(limit), leasePrefix)) as string[];
      const leases: Lease[] = [];
      for (let i = 0; i + 3 < flat.length; i += 4) {
        leases.push({ key: flat[i]!, holder: flat[i + 1]!, token: Number(flat[i + 2]), expiresAt: Number(flat[i + 3]) });
      }
      return leases;
    },

    async nextExpiry(after) {
      const [, score] = await redis.zrangebyscore(expiries, `(${Math.floor(after)}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
      return score === undefined ? null : Number(score);
    },

    async close() {
      if (options.quitOnClose) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
