import type { OutgoingMessage } from '../ports/index.js';

export interface SendBatcherOptions {
  publish: (topic: string, messages: OutgoingMessage[]) => Promise<void>;
  /** Topics in the order a flush serves them (highest priority band first). */
  order: readonly string[];
  /** Records per publish at most. */
  maxRecords?: number;
  /** Estimated bytes per publish at most: stays under the broker's 1 MiB `message.max.bytes`. */
  maxBytes?: number;
}

export interface SendBatcher {
  /** Resolves once the publish that carried `message` resolved; rejects with that publish's error. */
  send(topic: string, message: OutgoingMessage, bytes: number): Promise<void>;
}

interface Queued {
  message: OutgoingMessage;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces the sends of one tick, per topic, into one `publish(topic, records[])`: Kafka's cost is
 * per produce request, not per record. At most one publish per topic is in flight; what arrives
 * meanwhile waits for it and leaves as the next batch (no linger timer: a lone send goes out on the
 * next turn of the event loop). Topics are independent, so a CRITICAL send never waits behind
 * queued LOW ones — at most behind the one LOW request the producer already has on the wire.
 */
export function createSendBatcher(options: SendBatcherOptions): SendBatcher {
  const maxRecords = options.maxRecords ?? 1_000;
  const maxBytes = options.maxBytes ?? 512 * 1024;
  const queues = new Map<string, Queued[]>();
  const busy = new Set<string>();
  let scheduled = false;

  const take = (queue: Queued[]): Queued[] => {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < maxRecords && (n === 0 || bytes + queue[n]!.bytes <= maxBytes)) bytes += queue[n++]!.bytes;
    return queue.splice(0, n);
  };

  async function drain(topic: string): Promise<void> {
    const queue = queues.get(topic);
    if (busy.has(topic) || !queue || queue.length === 0) return;
    busy.add(topic);
    try {
      while (queue.length > 0) {
        const batch = take(queue);
        try {
          await options.publish(
            topic,
            batch.map((q) => q.message),
          );
          for (const q of batch) q.resolve();
        } catch (error) {
          for (const q of batch) q.reject(error);
        }
      }
    } finally {
      busy.delete(topic);
    }
  }

  const flush = (): void => {
    scheduled = false;
    for (const topic of options.order) void drain(topic);
    for (const topic of queues.keys()) if (!options.order.includes(topic)) void drain(topic);
  };

  return {
    send(topic, message, bytes) {
      return new Promise<void>((resolve, reject) => {
        const queue = queues.get(topic) ?? [];
        queues.set(topic, queue);
        queue.push({ message, bytes, resolve, reject });
        if (!scheduled && !busy.has(topic)) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
