import { isRetriable } from './errors.js';

export interface RetryOptions {
  /** Retries after the first try. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Called before each retry, e.g. to log or count. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
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
      const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
      const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      options.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
