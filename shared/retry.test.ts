import { describe, expect, it } from 'vitest';
import { OrchestrationError } from './errors.js';
import { retry } from './retry.js';

class Limited extends OrchestrationError {
  constructor(readonly retryAfterMs: number) {
    super('LLM_RATE_LIMITED', 'slow down', { retriable: true });
  }
}
const delayFor = (error: unknown) => (error instanceof Limited ? error.retryAfterMs : undefined);

describe('retry: a wait the failure asks for', () => {
  it('is waited instead of the back-off', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retry({ retries: 1, initialDelayMs: 5_000, maxDelayMs: 1_000, delayFor, onRetry: (_e, _a, ms) => waits.push(ms) }, async () => {
      if (calls++ === 0) throw new Limited(30);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(waits).toEqual([30]);
  });

  it('beyond maxDelayMs bails at once with the failure', async () => {
    let calls = 0;
    const failure = await retry({ retries: 3, initialDelayMs: 1, maxDelayMs: 1_000, delayFor }, async () => {
      calls++;
      throw new Limited(60_000);
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Limited);
    expect(calls).toBe(1);
  });
});
