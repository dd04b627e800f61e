import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** Retries after the first try. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Called before each retry, e.g. to log or count. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /**
   * The wait the failure itself asks for (a 429's Retry-After), used instead of the back-off; a wait
   * beyond maxDelayMs bails at once, since waiting it out costs more than failing now.
   */
  delayFor?: (error: unknown) => number | undefined;
}

/**
 * The one place that retries (kafkajs `retry()` style): full-jitter exponential back-off; an error
 * classified non-retriable bails at once.
 */
export async function retry<T>(options: RetryOptions, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.retries || !isRetriable(error)) throw error;
      const asked = options.delayFor?.(error);
      if (asked !== undefined && asked > options.maxDelayMs) throw error;
      const ceiling = backoffCeiling(options, attempt);
      const delayMs = asked ?? Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      options.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs);
    }
  }
}

/** The longest wait before retry number `attempt + 1` (the jitter picks between half of it and all of it). */
export const backoffCeiling = (options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs'>, attempt: number): number =>
  Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
