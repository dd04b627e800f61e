import { priorityRank, type Priority } from '../domain/vocabulary.js';
import { prioritiesHighestFirst } from './priority-topics.js';

export interface PriorityBufferOptions<T> {
  /** Queued items at most (ORCHESTRATION_MESSAGE_QUEUE_MAX_SIZE); a push past it waits. */
  maxSize: number;
  /** Handles one item at a time, highest priority first. A throw is the handler's business: it is caught. */
  handle: (item: T, priority: Priority) => Promise<void>;
  onSizeChange?: (queued: number) => void;
}

export interface PriorityBuffer<T> {
  /** Resolves once queued; while the buffer is full it waits, and a freed slot goes to the highest waiting priority. */
  push(priority: Priority, item: T): Promise<void>;
  queued(): number;
  inFlight(): number;
  /** Resolves when nothing is queued, waiting or in flight. */
  idle(): Promise<void>;
  /** Stops draining; queued items stay unhandled (their senders retry). */
  close(): void;
}

interface Waiter {
  priority: Priority;
  resolve: () => void;
}

/**
 * A recipient's local inbox: the five priority subscriptions feed it and it drains highest first,
 * one item at a time. Its bound is the backpressure: a full buffer makes the feeding subscription
 * wait, so the broker (not memory) holds the excess.
 */
export function createPriorityBuffer<T>(options: PriorityBufferOptions<T>): PriorityBuffer<T> {
  const queues = new Map<Priority, T[]>(prioritiesHighestFirst.map((p) => [p, []]));
  const waiters: Waiter[] = [];
  const idleWaiters: (() => void)[] = [];
  let size = 0;
  let running = 0;
  let draining = false;
  let closed = false;

  const settleIdle = (): void => {
    if (size > 0 || running > 0 || waiters.length > 0) return;
    for (const wake of idleWaiters.splice(0)) wake();
  };

  const wakeWaiter = (): void => {
    if (waiters.length === 0 || size >= options.maxSize) return;
    let best = 0;
    waiters.forEach((w, i) => {
      if (priorityRank[w.priority] > priorityRank[waiters[best]!.priority]) best = i;
    });
    waiters.splice(best, 1)[0]!.resolve();
  };

  const next = (): [Priority, T] | undefined => {
    for (const priority of prioritiesHighestFirst) {
      const queue = queues.get(priority)!;
      if (queue.length > 0) return [priority, queue.shift()!];
    }
    return undefined;
  };

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      for (let item = next(); item && !closed; item = next()) {
        size -= 1;
        running += 1;
        options.onSizeChange?.(size);
        wakeWaiter();
        try {
          await options.handle(item[1], item[0]);
        } catch {
          // the handler reports its own failures; the buffer keeps draining
        } finally {
          running -= 1;
        }
      }
    } finally {
      draining = false;
      settleIdle();
    }
  }

  return {
    async push(priority, item) {
      while (size >= options.maxSize && !closed) await new Promise<void>((resolve) => waiters.push({ priority, resolve }));
      if (closed) return;
      queues.get(priority)!.push(item);
      size += 1;
      options.onSizeChange?.(size);
      void drain();
    },
    queued: () => size,
    inFlight: () => running,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      }),
    close() {
      closed = true;
      for (const waiter of waiters.splice(0)) waiter.resolve();
      settleIdle();
    },
  };
}
