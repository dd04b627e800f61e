export interface Ids {
  /** A fresh unique id (workflow ids, message ids). */
  newId(prefix: string): string;
  /**
   * The id of the n-th event emitted while handling `causeId`: derived, not random, so a
   * redelivered or replayed input emits byte-identical events that idempotency absorbs.
   */
  derivedId(causeId: string, n: number): string;
}
