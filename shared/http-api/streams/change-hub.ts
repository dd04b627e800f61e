import type { StateChangeRecord } from '../../api/stream.js';
import type { ChangeLog, ChangePosition } from '../../ports/change-log.port.js';
import type { Logger } from '../../observability/logger.js';

export interface ChangeSubscription {
  /** One workflow's changes, or every workflow's when absent. */
  workflowId?: string;
  /** Replays the recorded changes after this position first (absent: live changes only). */
  after?: ChangePosition;
  /** Called once per change, in feed order; must not block (a slow client is the caller's to drop). */
  onChange(change: StateChangeRecord): void;
  /** Every change committed so far has been handed over (after the history, then after each poll). */
  onCaughtUp?(): void;
  /** The hub stopped (process shutting down). */
  onClose?(): void;
}

export interface ChangeHub {
  /** Resolves once the history is delivered and live changes follow; the function unsubscribes. */
  subscribe(subscription: ChangeSubscription): Promise<() => void>;
  readonly subscriberCount: number;
  stop(): Promise<void>;
}

export interface ChangeHubOptions {
  pollIntervalMs?: number;
  /** Changes older than this are pruned from the log (a stream's history reaches back this far). */
  retentionMs?: number;
  pruneIntervalMs?: number;
  pageSize?: number;
  now?: () => number;
}

export const positionOf = (cursor: string): ChangePosition => {
  const [txid, seq] = cursor.split('-');
  return { txid: BigInt(txid!), seq: BigInt(seq!) };
};
export const feedStart: ChangePosition = { txid: 0n, seq: 0n };

interface Subscriber extends ChangeSubscription {
  /** Live changes held back while the history is still being read. */
  held: StateChangeRecord[] | null;
}

/**
 * One poller per process fans the change log out to every stream. It reads only while someone
 * listens, never waits for a listener, and stops each read at the log's horizon so a change
 * committed late by a slow transaction is delivered late, never skipped.
 */
export function createChangeHub(log: ChangeLog, logger: Logger, options: ChangeHubOptions = {}): ChangeHub {
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const pageSize = options.pageSize ?? 500;
  const retentionMs = options.retentionMs ?? 24 * 3600_000;
  const pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const subscribers = new Set<Subscriber>();
  /** Every change at or before this position has been handed to the subscribers of the moment. */
  let delivered: ChangePosition | null = null;
  let starting: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;
  let stopped = false;
  let polling = false;

  const matches = (s: Subscriber, change: StateChangeRecord) => s.workflowId === undefined || s.workflowId === change.workflowId;
  const fanOut = (change: StateChangeRecord) => {
    for (const s of subscribers) {
      if (!matches(s, change)) continue;
      if (s.held) s.held.push(change);
      else s.onChange(change);
    }
  };

  async function poll(): Promise<void> {
    const horizon = await log.horizon();
    const upTo = { txid: horizon, seq: 0n };
    for (;;) {
      const page = await log.read({ after: delivered!, upTo, limit: pageSize });
      for (const change of page) {
        fanOut(change);
        delivered = positionOf(change.cursor);
      }
      if (page.length < pageSize) break;
    }
    delivered = upTo;
    for (const s of subscribers) if (!s.held) s.onCaughtUp?.();
    if (now() - lastPrune >= pruneIntervalMs) {
      lastPrune = now();
      const pruned = await log.prune(now() - retentionMs);
      if (pruned > 0) logger.debug('pruned state changes', { pruned });
    }
  }

  function schedule(): void {
    if (stopped || subscribers.size === 0) {
      // Idle: the next subscriber starts again from the horizon of its moment.
      polling = false;
      delivered = null;
      return;
    }
    polling = true;
    timer = setTimeout(() => {
      poll()
        .catch((error: unknown) => logger.warn('change feed poll failed; retrying', { error: error instanceof Error ? error.message : String(error) }))
        .finally(schedule);
    }, pollIntervalMs);
  }

  async function start(): Promise<void> {
    if (delivered) return;
    starting ??= log
      .horizon()
      .then((horizon) => {
        delivered = { txid: horizon, seq: 0n };
      })
      .finally(() => {
        starting = null;
      });
    await starting;
  }

  return {
    get subscriberCount() {
      return subscribers.size;
    },
    async subscribe(subscription) {
      if (stopped) throw new Error('the change hub is stopped');
      // The poller may go idle (and forget its position) between start() resolving and this line.
      while (!delivered) await start();
      const subscriber: Subscriber = { ...subscription, held: subscription.after ? [] : null };
      subscribers.add(subscriber);
      if (!polling) schedule();
      const unsubscribe = () => {
        subscribers.delete(subscriber);
      };
      if (!subscription.after) {
        subscription.onCaughtUp?.();
        return unsubscribe;
      }
      // History up to what the poller has delivered; later changes wait in `held` and follow it.
      const upTo = delivered!;
      let after = subscription.after;
      try {
        for (;;) {
          const page = await log.read({ after, upTo, workflowId: subscription.workflowId, limit: pageSize });
          for (const change of page) subscription.onChange(change);
          if (page.length < pageSize) break;
          after = positionOf(page.at(-1)!.cursor);
        }
      } catch (error) {
        unsubscribe();
        throw error;
      }
      const held = subscriber.held ?? [];
      subscriber.held = null;
      for (const change of held) subscription.onChange(change);
      subscription.onCaughtUp?.();
      return unsubscribe;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      for (const s of subscribers) s.onClose?.();
      subscribers.clear();
    },
  };
}
