/** Requests each credential may make: `burst` at once, then `perSecond` (0: no limit). */
export interface RateLimitSettings {
  perSecond: number;
  burst: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Takes one request from a credential's allowance (a 429 with Retry-After when none is left). */
export interface RateLimiter {
  take(credential: string): Promise<RateDecision>;
}
