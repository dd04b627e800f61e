import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient } from '../../shared/adapters/redis/lease-store.redis.js';
import { createRedisRateLimiter } from '../../shared/adapters/redis/rate-limiter.redis.js';
import { loadInfra } from '../../shared/env.js';
import { rateLimiterFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { rateLimiterContract } from '../contract/rate-limiter.contract.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const freshPrefix = () => `amas-test:rate:${randomUUID()}:`;

async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

rateLimiterContract('redis', async (settings) => {
  const redis = createRedisClient(url);
  const prefix = freshPrefix();
  return {
    subject: createRedisRateLimiter(redis, settings, { prefix }),
    cleanup: async () => {
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
});

describe('Redis rate limiter: one limit for every API replica', () => {
  const prefix = freshPrefix();
  const clients: Redis[] = [];
  beforeAll(() => {
    for (let i = 0; i < 3; i++) clients.push(createRedisClient(url));
  });
  afterAll(async () => {
    await dropPrefix(clients[0]!, prefix);
    for (const client of clients) await client.quit();
  });

  it('three replicas (three connections) together allow one burst per credential, not three', async () => {
    const settings = { perSecond: 1, burst: 10 };
    const replicas = clients.map((client) => createRedisRateLimiter(client, settings, { prefix }));
    const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => replicas[i % 3]!.take('key:shared')));
    const allowed = decisions.filter((d) => d.ok).length;
    console.log(`3 replicas, burst 10: ${allowed} of 30 concurrent requests allowed (per-process limiters would allow 30)`);
    expect(allowed).toBe(10);
    expect(decisions.find((d) => !d.ok)).toEqual({ ok: false, retryAfterSeconds: 1 });
    // The key lives only until the allowance is whole again (10 requests at 1/s: at most 10 s).
    const ttl = await clients[0]!.pttl(`${prefix}key:shared`);
    expect(ttl).toBeGreaterThan(8_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('rateLimiterFromInfra uses Redis only with REDIS_URL and a credential to count; while Redis fails it limits in memory', async () => {
    const base = { AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: 'test-admin-key-0123456789abcdef', AMAS_RATE_LIMIT_PER_SECOND: '1', AMAS_RATE_LIMIT_BURST: '2' };
    const unreachable = rateLimiterFromInfra(loadInfra({ ...base, REDIS_URL: 'redis://127.0.0.1:1' }));
    const started = Date.now();
    expect((await Promise.all([1, 2, 3].map(() => unreachable.take('key:down')))).map((d) => d.ok)).toEqual([true, true, false]);
    expect(Date.now() - started).toBeLessThan(10_000);
    await unreachable.close();

    const shared = [rateLimiterFromInfra(loadInfra({ ...base, REDIS_URL: url })), rateLimiterFromInfra(loadInfra({ ...base, REDIS_URL: url }))];
    const credential = `key:${randomUUID()}`;
    const decisions = [await shared[0]!.take(credential), await shared[1]!.take(credential), await shared[0]!.take(credential)];
    expect(decisions.map((d) => d.ok)).toEqual([true, true, false]);
    for (const limiter of shared) await limiter.close();
    await clients[0]!.del(`amas:rate:${credential}`);
  });
});
