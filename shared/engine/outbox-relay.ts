import type { EventBus, OutboxRecord, WorkflowStore } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';

/**
 * Publishes committed outbox rows to the bus, in commit order, then marks them sent. A crash between
 * publish and mark re-publishes on restart; consumers absorb the duplicate by event id.
 */
export function createOutboxRelay(store: WorkflowStore, bus: EventBus, logger: Logger, options: { intervalMs?: number; batchSize?: number } = {}) {
  const batchSize = options.batchSize ?? 500;
  let draining: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function drainOnce(): Promise<void> {
    const publish = (rows: OutboxRecord[]) => publishRows(bus, rows);
    for (;;) {
      const sent = await store.drainOutbox(batchSize, publish);
      if (sent === 'busy') {
        // Another relay is draining; look again soon for rows committed after it last looked.
        if (!stopped) setTimeout(kick, 10).unref();
        return;
      }
      if (sent === 0 || stopped) return;
    }
  }

  /** Drains until nothing is pending; concurrent calls coalesce into one more pass. */
  function drain(): Promise<void> {
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      try {
        do {
          again = false;
          await drainOnce();
        } while (again && !stopped);
      } finally {
        draining = null;
      }
    })();
    return draining;
  }

  const kick = () => {
    if (!stopped) drain().catch((error: unknown) => logger.warn('outbox relay failed; will retry', { error: String(error) }));
  };
  const timer = setInterval(kick, options.intervalMs ?? 500);
  timer.unref();

  return {
    kick,
    drain,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await draining?.catch(() => undefined);
    },
  };
}
export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

/** How long a committer's claim on its own outbox rows keeps the relay off them. */
export const OUTBOX_CLAIM_MS = 2_000;

/**
 * Publishes the rows a commit just wrote and claimed (WorkflowStore.commitClaimed), from the
 * committing process, without the relay's lock and transaction. Marks are batched: while one
 * UPDATE is in flight the next seqs gather for the one after. A crash before the mark, or a
 * failed publish, leaves the rows pending: the relay sends them once the claim lapses (consumers
 * absorb the repeat by event id).
 */
export function createOutboxPublisher(store: WorkflowStore, bus: EventBus, logger: Logger) {
  let unmarked: number[] = [];
  let marking: Promise<void> | null = null;

  const mark = (): void => {
    if (marking || unmarked.length === 0) return;
    const seqs = unmarked;
    unmarked = [];
    marking = store
      .markPublished(seqs)
      .catch((error: unknown) => logger.warn('marking published outbox rows failed; the relay will send them again', { error: String(error) }))
      .finally(() => {
        marking = null;
        mark();
      });
  };

  return {
    /** Resolves true once the rows are on the bus, false when they were left to the relay. */
    async publish(rows: OutboxRecord[]): Promise<boolean> {
      if (rows.length === 0) return true;
      try {
        await publishRows(bus, rows);
      } catch (error) {
        logger.warn('publishing committed events failed; the outbox relay will send them', { error: String(error), rows: rows.length });
        return false;
      }
      unmarked.push(...rows.map((row) => row.seq));
      mark();
      return true;
    },
    /** Waits for the marks in flight (on shutdown). */
    async flush(): Promise<void> {
      while (marking) await marking;
    },
  };
}
export type OutboxPublisher = ReturnType<typeof createOutboxPublisher>;

/** Rows of one topic go in one send, topics in the order their first row was committed. */
async function publishRows(bus: EventBus, rows: OutboxRecord[]): Promise<void> {
  for (const [topic, group] of groupByTopic(rows)) {
    await bus.publish(
      topic,
      group.map((row) => ({ key: row.key, event: row.event })),
    );
  }
}

function groupByTopic(rows: OutboxRecord[]): Map<string, OutboxRecord[]> {
  const groups = new Map<string, OutboxRecord[]>();
  for (const row of rows) {
    const group = groups.get(row.topic);
    if (group) group.push(row);
    else groups.set(row.topic, [row]);
  }
  return groups;
}
