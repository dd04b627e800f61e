/** How one item of a batch ended. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface CoalescerOptions<I, O> {
  /**
   * Runs one batch and settles each of its items, in order. Throwing fails every item of the batch
   * with that error (a lost connection, say).
   */
  run(items: I[]): Promise<Settled<O>[]>;
  /** Items per batch at most. */
  maxItems: number;
  /** Batches running at once at most (e.g. the connections of a pool). */
  maxInFlight: number;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Group commit: calls made in one turn of the event loop leave together as one batch, and calls
 * that arrive while every batch slot is busy gather for the next one. A lone call waits for nothing
 * but the end of its turn (no linger timer), so latency stays that of one call while throughput,
 * under load, becomes that of one round trip for many.
 */
export function createCoalescer<I, O>(options: CoalescerOptions<I, O>): (item: I) => Promise<O> {
  const queue: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const settle = (batch: Pending<I, O>[], outcomes: Settled<O>[]): void => {
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (!outcome) pending.reject(new Error(`batch runner settled ${outcomes.length} of ${batch.length} items`));
      else if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  };

  const flush = (): void => {
    scheduled = false;
    while (queue.length > 0 && inFlight < options.maxInFlight) {
      const batch = queue.splice(0, options.maxItems);
      inFlight += 1;
      void options
        .run(batch.map((pending) => pending.item))
        .then(
          (outcomes) => settle(batch, outcomes),
          (error: unknown) => batch.forEach((pending) => pending.reject(error)),
        )
        .finally(() => {
          inFlight -= 1;
          flush();
        });
    }
  };

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled && inFlight < options.maxInFlight) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
