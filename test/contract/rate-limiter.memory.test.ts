import { describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../shared/adapters/memory/rate-limiter.memory.js';
import { rateLimiterContract } from './rate-limiter.contract.js';

rateLimiterContract('memory', async (settings) => ({ subject: createMemoryRateLimiter(settings), cleanup: async () => undefined }));

describe('memory rate limiter on a manual clock', () => {
  it('refills fractionally: a second at 0.5 per second is half a request', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ perSecond: 0.5, burst: 1 }, () => now);
    expect(await limiter.take('a')).toEqual({ ok: true });
    now = 1_000;
    expect(await limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 2_000;
    expect(await limiter.take('a')).toEqual({ ok: true });
  });
});
