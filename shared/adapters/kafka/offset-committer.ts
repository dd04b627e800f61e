import type { Consumer, TopicPartitionOffset } from 'kafkajs';
import type { Logger } from '../../observability/logger.js';

/** Sends a commit: the consumer's own commitOffsets, or (in a batch) the batch's commitOffsetsIfNecessary. */
export type CommitOffsets = (offsets: TopicPartitionOffset[]) => Promise<unknown>;

/**
 * Commits a consumer's resolved offsets every `intervalMs` instead of after every fetched batch.
 * kafkajs's auto-commit sends an OffsetCommit after each batch and waits for it before that
 * partition's next fetch: under a steady trickle that is one more broker round trip per event or
 * two (bench/results/issue-16-defaults.md). A record handled but not yet committed when its consumer
 * dies is delivered again, which the functions absorb by event id, as after any crash.
 *
 * Only partitions this member holds are committed: a revoked partition's entry is dropped on the
 * next join, so a late commit never moves its new owner's offset back.
 */
export function createOffsetCommitter(consumer: Consumer, topic: string, intervalMs: number, logger?: Logger) {
  /** Per partition, the next offset to read once everything resolved so far is done. */
  const resolved = new Map<number, string>();
  const committed = new Map<number, string>();
  let assigned = new Set<number>();
  /** Commits run one after another; each commits what is resolved when it starts. */
  let chain: Promise<void> = Promise.resolve();

  const byConsumer: CommitOffsets = (offsets) => consumer.commitOffsets(offsets);
  const flushOnce = async (commit: CommitOffsets): Promise<void> => {
    const due = [...resolved].filter(([partition, offset]) => assigned.has(partition) && committed.get(partition) !== offset);
    if (due.length === 0) return;
    try {
      await commit(due.map(([partition, offset]) => ({ topic, partition, offset })));
      for (const [partition, offset] of due) committed.set(partition, offset);
    } catch (error) {
      // A rebalance under way refuses the commit: the next tick (or the new owner) takes it from there.
      logger?.debug('kafka offset commit failed; trying again on the next tick', { topic, error: String(error) });
    }
  };
  const flush = (commit: CommitOffsets = byConsumer): Promise<void> => (chain = chain.then(() => flushOnce(commit)));
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    /** The record at `offset` of `partition` and every one before it are done. */
    resolved(partition: number, offset: string): void {
      if (assigned.has(partition)) resolved.set(partition, (BigInt(offset) + 1n).toString());
    },
    /** The member's partitions of `topic` after a (re)join. */
    assign(partitions: readonly number[]): void {
      assigned = new Set(partitions);
      for (const partition of [...resolved.keys()]) if (!assigned.has(partition)) resolved.delete(partition);
      committed.clear();
    },
    /**
     * Commits what is resolved now (after any commit already under way). kafkajs ignores the
     * consumer's commitOffsets once stopping, so a batch that ends during a stop commits through its
     * own commitOffsetsIfNecessary, which still reaches the group before kafkajs leaves it.
     */
    flush,
    /** Stops the timer; with `flush`, then commits what is resolved (a graceful stop, not a crash). flush() still works after. */
    async stop({ flush: last }: { flush: boolean }): Promise<void> {
      clearInterval(timer);
      await (last ? flush() : chain);
    },
  };
}
export type OffsetCommitter = ReturnType<typeof createOffsetCommitter>;
