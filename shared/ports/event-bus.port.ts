import type { AnyCloudEvent } from '../events/envelope.js';

export interface OutgoingMessage {
  /** Partition key: the workflow id for workflow events, so one workflow's events stay ordered. */
  key: string;
  event: AnyCloudEvent;
}

/** One retained record as a consumer sees it. `value` is unvalidated: the edge parses it. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  timestamp: number;
  value: unknown;
  headers: Record<string, string>;
}

export interface SubscribeOptions {
  groupId: string;
  topic: string;
  /** Where a group with no committed offset starts. Defaults to the beginning. */
  fromBeginning?: boolean;
  /** Resolving commits the offset; throwing redelivers the same record later. */
  handler: (delivery: Delivery) => Promise<void>;
  /**
   * Records of one partition fetch to handle together, in offset order (a bus set to batch calls
   * this instead of `handler`). Resolving commits the offsets of all of them; throwing delivers the
   * whole batch again. The handler keeps per-key order and decides each record on its own.
   */
  handleBatch?: (deliveries: Delivery[]) => Promise<void>;
}

/** How a bus gathers records for `handleBatch`. */
export interface BatchOptions {
  /** Records per batch at most; 1 turns batching off (every record goes to `handler`). */
  maxRecords: number;
  /** How long a partition waits for more records to fill a batch once it has one. */
  lingerMs: number;
}

export interface Subscription {
  /** Stops fetching, lets the in-flight record finish and commits it. */
  stop(): Promise<void>;
}

export interface ReadRange {
  fromOffset?: number;
  fromTime?: number;
}

export interface EventBus {
  publish(topic: string, messages: OutgoingMessage[], headers?: Record<string, string>): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Records not yet committed by the group, summed over partitions. */
  lag(groupId: string, topic: string): Promise<number>;
  /** Retained records of a topic in partition-then-offset order, for replay and export. */
  read(topic: string, range?: ReadRange): Promise<Delivery[]>;
  close(): Promise<void>;
}
