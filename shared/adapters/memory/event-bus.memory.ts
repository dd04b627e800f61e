import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { OrchestrationError } from '../../errors.js';
import type { Clock } from '../../ports/clock.port.js';
import type { BatchOptions, Delivery, EventBus, SubscribeOptions } from '../../ports/event-bus.port.js';
import { systemClock } from './clock.system.js';

export interface MemoryEventBusOptions {
  partitions?: number;
  retryDelayMs?: number;
  /** Records kept per partition; older ones go, as with Kafka retention. Default: all. */
  maxRetentionRecords?: number;
  clock?: Clock;
  /** Hand a subscriber that takes batches (handleBatch) up to `maxRecords` of a partition at once. Default: off. */
  batch?: BatchOptions;
}

export interface ExportedRecord extends Delivery {
  /** Global publish order across all topics. */
  seq: number;
}

export interface TopicSnapshot {
  topic: string;
  partitions: { partition: number; firstOffset: number; endOffset: number }[];
  groups: { groupId: string; members: number; committed: number[]; lag: number }[];
}

export type MemoryEventBus = EventBus & { topicsSnapshot(): TopicSnapshot[]; exportLog(): ExportedRecord[] };

interface StoredRecord extends Omit<ExportedRecord, 'value'> {
  json: string;
}

/** `records[head]` holds offset `end - (records.length - head)`; `head` moves on as retention drops records. */
interface PartitionLog {
  records: StoredRecord[];
  head: number;
  end: number;
  waiters: Set<() => void>;
}

interface Member {
  handler: SubscribeOptions['handler'];
  handleBatch?: SubscribeOptions['handleBatch'];
  inFlight: Set<Promise<boolean>>;
}

interface Group {
  groupId: string;
  topic: string;
  logs: PartitionLog[];
  committed: number[];
  members: Member[];
  workers: Set<number>;
  waiters: Set<() => void>;
}

const firstOffset = (log: PartitionLog): number => log.end - (log.records.length - log.head);
const recordAt = (log: PartitionLog, offset: number): StoredRecord | undefined =>
  offset < firstOffset(log) ? undefined : log.records[log.head + offset - firstOffset(log)];

/** FNV-1a over the key's UTF-8 bytes: stable across processes, so a key always lands on one partition. */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % partitions;
}

function notify(waiters: Set<() => void>): void {
  for (const wake of [...waiters]) wake();
}

/** Resolves on the next notify of any given set, or after `ms` when given. */
function sleep(sets: Set<() => void>[], ms?: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const wake = (): void => {
      clearTimeout(timer);
      for (const set of sets) set.delete(wake);
      resolve();
    };
    for (const set of sets) set.add(wake);
    if (ms !== undefined) timer = setTimeout(wake, ms);
  });
}

/** Parsed afresh per delivery, so one consumer mutating its value cannot affect another. */
const toDelivery = ({ seq: _seq, json, headers, ...rest }: StoredRecord): Delivery => ({
  ...rest,
  value: JSON.parse(json) as unknown,
  headers: { ...headers },
});

export function createMemoryEventBus(options: MemoryEventBusOptions = {}): MemoryEventBus {
  const partitionCount = options.partitions ?? 6;
  const retryDelayMs = options.retryDelayMs ?? 50;
  const retention = options.maxRetentionRecords ?? Infinity;
  const clock = options.clock ?? systemClock;
  const batchMax = Math.max(1, options.batch?.maxRecords ?? 1);
  const batchLingerMs = options.batch?.lingerMs ?? 0;
  const topics = new Map<string, { logs: PartitionLog[]; roundRobin: number }>();
  const groups = new Map<string, Group>();
  let seq = 0;
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new OrchestrationError('BUS_CLOSED', 'the event bus is closed');
  };

  const topicOf = (name: string) => {
    let topic = topics.get(name);
    if (!topic) {
      const logs = Array.from({ length: partitionCount }, () => ({ records: [], head: 0, end: 0, waiters: new Set<() => void>() }));
      topic = { logs, roundRobin: 0 };
      topics.set(name, topic);
    }
    return topic;
  };

  const append = (log: PartitionLog, record: StoredRecord): void => {
    log.records.push(record);
    log.end += 1;
    if (log.records.length - log.head > retention) log.head += 1;
    if (log.head > 1024 && log.head * 2 > log.records.length) {
      log.records = log.records.slice(log.head);
      log.head = 0;
    }
    notify(log.waiters);
  };

  /** The handler and the commit, as one unit that stop() can wait for. */
  async function attempt(group: Group, partition: number, record: StoredRecord, owner: Member): Promise<boolean> {
    try {
      await owner.handler(toDelivery(record));
    } catch {
      return false;
    }
    group.committed[partition] = record.offset + 1;
    return true;
  }

  /** A batch's handler and the commit past its last record, as one unit. */
  async function attemptBatch(group: Group, partition: number, records: StoredRecord[], handleBatch: NonNullable<Member['handleBatch']>): Promise<boolean> {
    try {
      await handleBatch(records.map(toDelivery));
    } catch {
      return false;
    }
    group.committed[partition] = records.at(-1)!.offset + 1;
    return true;
  }

  /** Up to `batchMax` records from `offset`, waiting up to the linger for more once there is one. */
  async function gather(group: Group, log: PartitionLog, offset: number): Promise<StoredRecord[]> {
    const deadline = Date.now() + batchLingerMs;
    for (;;) {
      const available = Math.min(batchMax, log.end - offset);
      const left = deadline - Date.now();
      if (available >= batchMax || left <= 0 || closed) break;
      await sleep([log.waiters, group.waiters], left);
    }
    const records: StoredRecord[] = [];
    for (let at = offset; at < log.end && records.length < batchMax; at += 1) records.push(recordAt(log, at)!);
    return records;
  }

  /** The one loop of a (group, partition): strictly sequential delivery, whoever owns the partition now. */
  async function work(group: Group, partition: number): Promise<void> {
    const log = group.logs[partition]!;
    let sinceYield = 0;
    while (!closed && group.members.length > 0) {
      const offset = Math.max(group.committed[partition]!, firstOffset(log));
      group.committed[partition] = offset;
      const record = recordAt(log, offset);
      if (!record) {
        await sleep([log.waiters, group.waiters]);
        continue;
      }
      const owner = group.members[partition % group.members.length]!;
      const handleBatch = batchMax > 1 ? owner.handleBatch : undefined;
      const run = handleBatch
        ? gather(group, log, offset).then((records) => attemptBatch(group, partition, records, handleBatch))
        : attempt(group, partition, record, owner);
      owner.inFlight.add(run);
      const ok = await run;
      owner.inFlight.delete(run);
      if (!ok) await sleep([group.waiters], retryDelayMs);
      // Synchronous handlers would otherwise drain a backlog without ever letting timers and I/O run.
      if (++sinceYield % 256 === 0) await yieldToEventLoop();
    }
    group.workers.delete(partition);
  }

  const rebalance = (group: Group): void => {
    notify(group.waiters);
    if (group.members.length === 0) return;
    group.logs.forEach((_, partition) => {
      if (group.workers.has(partition)) return;
      group.workers.add(partition);
      void work(group, partition);
    });
  };

  const lagOf = (group: Group): number => group.logs.reduce((sum, log, p) => sum + log.end - Math.max(group.committed[p]!, firstOffset(log)), 0);

  const stopMember = async (group: Group, member: Member): Promise<void> => {
    const index = group.members.indexOf(member);
    if (index >= 0) group.members.splice(index, 1);
    rebalance(group);
    await Promise.all(member.inFlight);
  };

  return {
    async publish(topic, messages, headers = {}) {
      assertOpen();
      const state = topicOf(topic);
      const timestamp = clock.now();
      // Serialised now, so a producer mutating its object afterwards cannot change the log.
      const batch = messages.map((m) => ({ key: (m.key as string | null) ?? null, json: JSON.stringify(m.event) ?? 'null' }));
      for (const { key, json } of batch) {
        const partition = key === null ? state.roundRobin++ % partitionCount : partitionOf(key, partitionCount);
        const log = state.logs[partition]!;
        append(log, { seq: seq++, topic, partition, offset: log.end, key, timestamp, json, headers: { ...headers } });
      }
    },

    async subscribe({ groupId, topic, fromBeginning = true, handler, handleBatch }) {
      assertOpen();
      const groupKey = `${groupId}\u0000${topic}`;
      let group = groups.get(groupKey);
      if (!group) {
        const logs = topicOf(topic).logs;
        const committed = logs.map((log) => (fromBeginning ? firstOffset(log) : log.end));
        group = { groupId, topic, logs, committed, members: [], workers: new Set(), waiters: new Set() };
        groups.set(groupKey, group);
      }
      const member: Member = { handler, ...(handleBatch ? { handleBatch } : {}), inFlight: new Set() };
      group.members.push(member);
      rebalance(group);
      const owned = group;
      return { stop: () => stopMember(owned, member) };
    },

    async lag(groupId, topic) {
      const group = groups.get(`${groupId}\u0000${topic}`);
      if (group) return lagOf(group);
      return (topics.get(topic)?.logs ?? []).reduce((sum, log) => sum + log.records.length - log.head, 0);
    },

    async read(topic, range = {}) {
      const out: Delivery[] = [];
      for (const log of topics.get(topic)?.logs ?? []) {
        for (let offset = Math.max(range.fromOffset ?? 0, firstOffset(log)); offset < log.end; offset += 1) {
          const record = recordAt(log, offset)!;
          if (range.fromTime === undefined || record.timestamp >= range.fromTime) out.push(toDelivery(record));
        }
      }
      return out;
    },

    async close() {
      closed = true;
      const stops = [...groups.values()].flatMap((group) => [...group.members].map((member) => stopMember(group, member)));
      await Promise.all(stops);
    },

    topicsSnapshot() {
      return [...topics.entries()].map(([topic, { logs }]) => ({
        topic,
        partitions: logs.map((log, partition) => ({ partition, firstOffset: firstOffset(log), endOffset: log.end })),
        groups: [...groups.values()]
          .filter((g) => g.topic === topic)
          .map((g) => ({ groupId: g.groupId, members: g.members.length, committed: [...g.committed], lag: lagOf(g) })),
      }));
    },

    exportLog() {
      const all = [...topics.values()].flatMap(({ logs }) => logs.flatMap((log) => log.records.slice(log.head)));
      return all.sort((a, b) => a.seq - b.seq).map((r) => ({ seq: r.seq, ...toDelivery(r) }));
    },
  };
}
