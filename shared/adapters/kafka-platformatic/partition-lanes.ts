/**
 * One lane per partition: records of a partition run one after another (so per-key order holds,
 * keys being partitioned), partitions run side by side. A handler that throws is run again on the
 * same record after a backoff, so nothing behind it overtakes it; the offset is committed only
 * after the handler resolved, coalesced to the newest done record when its lane runs dry.
 */
export interface LaneRecord {
  partition: number;
  commit(): void | Promise<void>;
}

export interface PartitionLanesOptions<R extends LaneRecord> {
  handle(record: R): Promise<void>;
  /** False once stop() began: a failing record is then left uncommitted for the next member. */
  running(): boolean;
  onCommitError(error: unknown): void;
  retry?: { initialMs: number; maxMs: number };
  /** Commit at least every this many records of a busy lane. Default 64. */
  commitEvery?: number;
}

interface Lane<R> {
  tail: Promise<void>;
  queued: number;
  /** Records done since the last commit; -1 once a record was given up on during stop(). */
  sinceCommit: number;
  done?: R;
  committing?: Promise<void>;
}

export function createPartitionLanes<R extends LaneRecord>(options: PartitionLanesOptions<R>) {
  const lanes = new Map<number, Lane<R>>();
  const retry = options.retry ?? { initialMs: 100, maxMs: 1_000 };
  const commitEvery = options.commitEvery ?? 64;
  let inFlight = 0;

  /** Commits the lane's newest done record once this turn of the event loop is over: every record done in it shares one commit. */
  const commitSoon = (lane: Lane<R>): Promise<void> => {
    lane.committing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      lane.committing = undefined;
      const record = lane.done;
      if (lane.sinceCommit > 0) lane.sinceCommit = 0;
      if (record) await Promise.resolve(record.commit()).catch(options.onCommitError);
    });
    return lane.committing;
  };

  const runOne = async (record: R): Promise<boolean> => {
    for (let delay = retry.initialMs; ; delay = Math.min(delay * 2, retry.maxMs)) {
      try {
        await options.handle(record);
        return true;
      } catch {
        if (!options.running()) return false;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (!options.running()) return false;
      }
    }
  };

  return {
    get inFlight(): number {
      return inFlight;
    },
    push(record: R): void {
      const lane: Lane<R> = lanes.get(record.partition) ?? { tail: Promise.resolve(), queued: 0, sinceCommit: 0 };
      lanes.set(record.partition, lane);
      lane.queued += 1;
      inFlight += 1;
      lane.tail = lane.tail.then(async () => {
        try {
          // A lane that failed during stop() skips the rest: they stay uncommitted and are redelivered.
          if (!options.running() && lane.sinceCommit < 0) return;
          if (!(await runOne(record))) {
            lane.sinceCommit = -1;
            return;
          }
          lane.sinceCommit += 1;
          lane.done = record;
          if (lane.queued === 1 || lane.sinceCommit >= commitEvery) await commitSoon(lane);
        } finally {
          lane.queued -= 1;
          inFlight -= 1;
        }
      });
    },
    /** Resolves when any lane finished its current record (backpressure for the reader). */
    async drainOne(): Promise<void> {
      await Promise.race([...lanes.values()].map((lane) => lane.tail));
    },
    async settled(): Promise<void> {
      await Promise.all([...lanes.values()].map((lane) => lane.tail));
    },
  };
}
