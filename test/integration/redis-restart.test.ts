import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createRedisClient, createRedisLeaseStore } from '../../shared/adapters/redis/lease-store.redis.js';
import { resilientLeaseStore } from '../../shared/adapters/resilient.js';
import { createCircuitBreaker, type CircuitBreaker } from '../../shared/circuit-breaker.js';
import { DependencyUnavailableError } from '../../shared/errors.js';

/**
 * Restarts the machine's shared Redis on 6379 (it keeps nothing on disk, so every lease and fencing
 * counter is lost) and checks that the resilient lease store fails fast while it is away, recovers
 * when it returns, and never hands out a token lower than one given out before the restart.
 */
const run = promisify(execFile);
const url = 'redis://127.0.0.1:6379';
const serverArgs = [
  '--daemonize',
  'yes',
  '--bind',
  '127.0.0.1',
  '-::1',
  '--port',
  '6379',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  '/var/lib/redis',
  '--logfile',
  '/var/log/redis/ci.log',
];
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function pong(): Promise<boolean> {
  try {
    return (await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { timeout: 1_000 })).stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await pause(50);
  }
}

/** Starts Redis again if it is not answering; runs even when the test failed half-way. */
async function ensureRedisUp(): Promise<void> {
  if (await pong()) return;
  await run('redis-server', serverArgs);
  await waitUntil('Redis answers PING', pong);
}

describe('lease store across a Redis restart', () => {
  const prefix = `amas-test:${randomUUID()}:`;
  const threshold = 3;
  let redis: Redis;
  let breaker: CircuitBreaker;
  let leases: ReturnType<typeof resilientLeaseStore>;

  beforeAll(async () => {
    await ensureRedisUp();
    redis = createRedisClient(url, { commandTimeout: 500, retryStrategy: (times) => Math.min(50 * times, 200) });
    breaker = createCircuitBreaker({ name: 'redis', threshold, recoveryMs: 200, clock: systemClock });
    leases = resilientLeaseStore(createRedisLeaseStore(redis, { prefix }), breaker, { retries: 1, initialDelayMs: 10, maxDelayMs: 20 });
  });
  afterAll(async () => {
    await ensureRedisUp();
    const keys = await redis.keys(`${prefix}*`).catch(() => []);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('fails fast while Redis is down, recovers when it returns, and keeps tokens increasing', async () => {
    let before = 0;
    for (let i = 0; i < 5; i++) {
      const lease = await leases.acquire('job', `holder-${i}`, 60_000);
      before = lease!.token;
      if (i < 4) await leases.release('job', before);
    }
    expect(await leases.health()).toEqual({ dependency: 'redis', ok: true, circuit: 'closed' });

    try {
      await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { timeout: 5_000 }).catch(() => undefined);
      await waitUntil('Redis stops answering', async () => !(await pong()));

      for (let i = 0; i < threshold; i++) {
        await expect(leases.acquire('other', 'h', 1_000)).rejects.toBeInstanceOf(DependencyUnavailableError);
      }
      expect(breaker.state).toBe('open');
      const started = performance.now();
      const fast = await leases.renew('job', before, 1_000).catch((e: unknown) => e);
      expect(fast).toBeInstanceOf(DependencyUnavailableError);
      expect(performance.now() - started).toBeLessThan(50);
      expect(await leases.health()).toMatchObject({ ok: false, circuit: 'open' });

      // After the recovery time the health probe is the half-open trial; Redis is still down, so it re-opens.
      await pause(250);
      expect(await leases.health()).toMatchObject({ ok: false });
      expect(breaker.state).toBe('open');
    } finally {
      await ensureRedisUp();
    }

    await waitUntil('the lease store is healthy again', async () => (await leases.health()).ok);
    expect(breaker.state).toBe('closed');
    // Nothing survived: the lease and its fencing counter are gone with the old process.
    expect(await leases.get('job')).toBeNull();
    expect(await redis.exists(`${prefix}fence:job`)).toBe(0);
    const after = await leases.acquire('job', 'holder-after', 60_000);
    expect(after!.token).toBeGreaterThan(before);
    expect(await leases.renew('job', before, 1_000)).toBe(false);
  });
});
