import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, createRedisLeaseStore } from '../../shared/adapters/redis/lease-store.redis.js';
import type { LeaseStore } from '../../shared/ports/lease-store.port.js';
import { leaseStoreContract } from '../contract/lease-store.contract.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const freshPrefix = () => `amas-test:${randomUUID()}:`;

/** Deletes every key under the prefix, so the shared Redis keeps nothing of a run. */
async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

leaseStoreContract('redis', async () => {
  const redis = createRedisClient(url);
  const prefix = freshPrefix();
  const subject = createRedisLeaseStore(redis, { prefix });
  return {
    subject,
    cleanup: async () => {
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
});

describe('Redis lease store', () => {
  let redis: Redis;
  let other: Redis;
  let prefix: string;
  let leases: LeaseStore;

  beforeAll(() => {
    redis = createRedisClient(url);
    other = createRedisClient(url);
    prefix = freshPrefix();
    leases = createRedisLeaseStore(redis, { prefix });
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    await Promise.all([redis.quit(), other.quit()]);
  });

  it('gives a lease back to its holder after Redis lost every key (a restart without persistence), and no one else', async () => {
    const lease = (await leases.acquire('forgotten', 'agent-1', 10_000))!;
    await dropPrefix(redis, prefix); // what FLUSHALL or a restart without persistence leaves
    expect(await leases.get('forgotten')).toBeNull();
    expect(await leases.renew('forgotten', lease.token, 10_000)).toBe(false);
    expect(await leases.reclaim('forgotten', 'agent-1', lease.token, 10_000)).toBe(true);
    expect(await leases.get('forgotten')).toMatchObject({ holder: 'agent-1', token: lease.token });
    expect(await leases.renew('forgotten', lease.token, 10_000)).toBe(true);
    expect(await leases.renewHolder('agent-1', 10_000)).toBe(1);
    expect(await leases.acquire('forgotten', 'agent-2', 10_000)).toBeNull();
    expect(await leases.release('forgotten', lease.token)).toBe(true);
    expect((await leases.acquire('forgotten', 'agent-2', 10_000))!.token).toBeGreaterThan(lease.token);
  });

  it('lets exactly one of 200 concurrent holders win a key', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => leases.acquire('race', `holder-${i}`, 10_000)));
    const winners = results.filter((lease) => lease !== null);
    expect(winners).toHaveLength(1);
    expect(await leases.get('race')).toEqual(winners[0]);
  });

  it('hands out strictly increasing tokens across 1,000 acquire/release cycles', async () => {
    let last = 0;
    for (let i = 0; i < 1_000; i++) {
      const lease = await leases.acquire('cycle', `holder-${i % 3}`, 10_000);
      expect(lease!.token).toBeGreaterThan(last);
      expect(Number.isSafeInteger(lease!.token)).toBe(true);
      last = lease!.token;
      expect(await leases.release('cycle', lease!.token)).toBe(true);
    }
    // The counter outlives every release: it is the fence key, never deleted.
    expect(Number(await redis.get(`${prefix}fence:cycle`))).toBe(last);
  });

  it('keeps a lease across two store instances on two connections', async () => {
    const second = createRedisLeaseStore(other, { prefix });
    const lease = await leases.acquire('shared', 'h1', 10_000);
    expect(await second.get('shared')).toEqual(lease);
    expect(await second.acquire('shared', 'h2', 10_000)).toBeNull();
    expect(await second.renew('shared', lease!.token, 20_000)).toBe(true);
    expect(await second.release('shared', lease!.token)).toBe(true);
    expect(await leases.get('shared')).toBeNull();
  });

  it("reckons expiry on the server's clock", async () => {
    const [seconds, micros] = await redis.time();
    const serverNow = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
    const lease = await leases.acquire('clock', 'h', 5_000);
    expect(lease!.expiresAt - serverNow).toBeGreaterThanOrEqual(5_000);
    expect(lease!.expiresAt - serverNow).toBeLessThan(5_000 + 1_000);
    expect(lease!.token).toBeGreaterThanOrEqual(serverNow * 1_000);
  });

  it('lists a lease as expired only when both the caller and the server say so', async () => {
    const lease = await leases.acquire('both-clocks', 'h', 50);
    await pause(150);
    const listed = async (now: number) => (await leases.listExpired(now, 1_000)).map((l) => l.key);
    // A caller whose clock lags sees nothing yet; one whose clock runs ahead cannot expire live leases.
    expect(await listed(lease!.expiresAt - 1)).not.toContain('both-clocks');
    expect(await listed(Date.now())).toContain('both-clocks');
    await leases.acquire('live', 'h', 60_000);
    expect(await listed(Date.now() + 3_600_000)).not.toContain('live');
  });

  it('keeps an expired lease only for the retention time, then forgets it and its index entry', async () => {
    const short = createRedisLeaseStore(redis, { prefix, retainExpiredMs: 50 });
    await short.acquire('retained', 'h', 50);
    await pause(80);
    expect(await short.get('retained')).not.toBeNull();
    expect((await short.listExpired(Date.now(), 1_000)).map((l) => l.key)).toContain('retained');
    await pause(100);
    expect(await short.get('retained')).toBeNull();
    expect((await short.listExpired(Date.now(), 1_000)).map((l) => l.key)).not.toContain('retained');
    expect(await redis.zscore(`${prefix}expiries`, 'retained')).toBeNull();
  });

  it('drops keys from a holder set once another holder took them over', async () => {
    await leases.acquire('moved', 'old', 50);
    await pause(100);
    await leases.acquire('moved', 'new', 10_000);
    expect(await redis.sismember(`${prefix}holder:old`, 'moved')).toBe(0);
    expect(await leases.renewHolder('old', 10_000)).toBe(0);
    expect(await leases.renewHolder('new', 10_000)).toBe(1);
  });
});
