import type { Redis } from 'ioredis';
import type { RateLimiter, RateLimitSettings } from '../../ports/rate-limiter.port.js';

export interface RedisRateLimiterOptions {
  /** Every key starts with it (default `amas:rate:`); the rest is the credential. */
  prefix?: string;
  /** close() also quits the connection (default false: the caller may share it). */
  quitOnClose?: boolean;
}

/**
 * GCRA, the token bucket as one number per credential: the time (ms, the server's clock, so replicas'
 * clocks need not agree) at which its allowance is whole again. A request is allowed while that time
 * is less than `burst` intervals ahead, and pushes it one interval further. The key expires when the
 * allowance is whole, so idle credentials cost nothing. Returns 0, or the ms until the next request.
 */
const gcra = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat + interval - burst * interval - now
if wait > 0 then return math.ceil(wait) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
return 0
`;

interface RateCommands {
  amasRateTake(key: string, intervalMs: number, burst: number): Promise<number>;
}

/** One limit per credential for every API replica that shares the Redis server. */
export function createRedisRateLimiter(
  redis: Redis,
  settings: RateLimitSettings,
  options: RedisRateLimiterOptions = {},
): RateLimiter & { close(): Promise<void> } {
  const prefix = options.prefix ?? 'amas:rate:';
  redis.defineCommand('amasRateTake', { numberOfKeys: 1, lua: gcra });
  const commands = redis as unknown as RateCommands;
  const intervalMs = settings.perSecond > 0 ? 1000 / settings.perSecond : 0;
  return {
    async take(credential) {
      if (settings.perSecond <= 0) return { ok: true };
      const waitMs = Number(await commands.amasRateTake(prefix + credential, intervalMs, settings.burst));
      return waitMs <= 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
    async close() {
      if (options.quitOnClose) await redis.quit().catch(() => undefined);
    },
  };
}
