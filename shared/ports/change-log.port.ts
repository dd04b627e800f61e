import type { StateChangeRecord } from '../api/stream.js';

/** A feed position: the writing transaction and the row within it (their order is commit-safe, see `horizon`). */
export interface ChangePosition {
  txid: bigint;
  seq: bigint;
}

/** The committed state changes of every workflow and subtask, in an order that never lets a reader skip one. */
export interface ChangeLog {
  /**
   * Every transaction below the returned txid has ended, so no change positioned before
   * `{ txid: horizon, seq: 0 }` can still appear: reading up to there is final.
   */
  horizon(): Promise<bigint>;
  /** Changes after `after` up to `upTo` (inclusive), in feed order, of one workflow or all. */
  read(range: { after: ChangePosition; upTo: ChangePosition; workflowId?: string; limit: number }): Promise<StateChangeRecord[]>;
  /** Deletes changes older than `olderThan` (ms since the epoch); returns how many. */
  prune(olderThan: number): Promise<number>;
}

/** Which dead letters an operator re-drove (the letters themselves stay on their `.dlq` topics). */
export interface DeadLetterRedrives {
  /** Records a redrive (counting repeats); returns when. */
  mark(id: string, topic: string): Promise<string>;
  /** When each of these ids was last re-driven, if ever. */
  redrivenAt(ids: readonly string[]): Promise<Map<string, string>>;
}
