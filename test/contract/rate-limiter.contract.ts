import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimiter, RateLimitSettings } from '../../shared/ports/rate-limiter.port.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every RateLimiter adapter must show, in real time: `make` returns a limiter with
 * these settings (possibly over a shared server); credentials are unique per test.
 */
export function rateLimiterContract(
  name: string,
  make: (settings: RateLimitSettings) => Promise<{ subject: RateLimiter; cleanup: () => Promise<void> }>,
): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const made: (() => Promise<void>)[] = [];
    let credential: (label: string) => string;
    beforeEach(() => {
      const run = randomUUID();
      credential = (label) => `${label}:${run}`;
    });
    afterEach(async () => {
      for (const cleanup of made.splice(0)) await cleanup();
    });
    const limiter = async (settings: RateLimitSettings) => {
      const { subject, cleanup } = await make(settings);
      made.push(cleanup);
      return subject;
    };
    const takeN = async (subject: RateLimiter, who: string, n: number) => {
      const decisions = [];
      for (let i = 0; i < n; i++) decisions.push(await subject.take(who));
      return decisions;
    };

    it('allows `burst` requests at once, then refuses with a Retry-After of whole seconds', async () => {
      const subject = await limiter({ perSecond: 0.5, burst: 3 });
      const decisions = await takeN(subject, credential('a'), 4);
      expect(decisions.slice(0, 3)).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
      expect(decisions[3]).toEqual({ ok: false, retryAfterSeconds: 2 });
    });

    it('keeps each credential to its own allowance', async () => {
      const subject = await limiter({ perSecond: 0.5, burst: 1 });
      expect(await subject.take(credential('a'))).toEqual({ ok: true });
      expect((await subject.take(credential('a'))).ok).toBe(false);
      expect(await subject.take(credential('b'))).toEqual({ ok: true });
    });

    it('refills at `perSecond`', async () => {
      const subject = await limiter({ perSecond: 20, burst: 2 });
      const who = credential('a');
      expect((await takeN(subject, who, 3)).map((d) => d.ok)).toEqual([true, true, false]);
      await pause(60); // one request's worth (50 ms), and a little
      expect((await takeN(subject, who, 2)).map((d) => d.ok)).toEqual([true, false]);
    });

    it('with perSecond 0 never limits', async () => {
      const subject = await limiter({ perSecond: 0, burst: 1 });
      expect((await takeN(subject, credential('a'), 5)).every((d) => d.ok)).toBe(true);
    });
  });
}
