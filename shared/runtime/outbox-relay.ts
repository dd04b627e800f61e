import type { EventBus, OutboxRecord, WorkflowStore } from '../ports/index.js';
import type { Logger } from './logger.js';

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
    const publish = async (rows: OutboxRecord[]) => {
      for (const [topic, group] of groupByTopic(rows)) {
        await bus.publish(topic, group.map((row) => ({ key: row.key, event: row.event })));
      }
    };
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

function groupByTopic(rows: OutboxRecord[]): Map<string, OutboxRecord[]> {
  const groups = new Map<string, OutboxRecord[]>();
  for (const row of rows) {
    const group = groups.get(row.topic);
    if (group) group.push(row);
    else groups.set(row.topic, [row]);
  }
  return groups;
}
