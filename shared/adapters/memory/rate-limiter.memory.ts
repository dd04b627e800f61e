import type { RateDecision, RateLimiter, RateLimitSettings } from '../../ports/rate-limiter.port.js';

const maxBuckets = 10_000;

/**
 * A token bucket per credential, in this process's memory: `burst` requests at once, refilled at
 * `perSecond`. Each replica allows the full rate; with REDIS_URL the replicas share one limit
 * (rate-limiter.redis.ts).
 */
export function createMemoryRateLimiter(settings: RateLimitSettings, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const take = (credential: string): RateDecision => {
    if (settings.perSecond <= 0) return { ok: true };
    const t = now();
    const bucket = buckets.get(credential) ?? { tokens: settings.burst, at: t };
    bucket.tokens = Math.min(settings.burst, bucket.tokens + ((t - bucket.at) / 1000) * settings.perSecond);
    bucket.at = t;
    if (!buckets.has(credential)) {
      // A full bucket is the same as none: forget the oldest when there are too many.
      if (buckets.size >= maxBuckets) buckets.delete(buckets.keys().next().value!);
      buckets.set(credential, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / settings.perSecond)) };
  };
  return { take: async (credential) => take(credential) };
}
