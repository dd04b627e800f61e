import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, ConsumerConfig, Kafka, KafkaMessage } from 'kafkajs';
import type { Delivery, ReadRange } from '../../ports/event-bus.port.js';

export interface ReadContext {
  kafka: Kafka;
  admin: Admin;
  consumerConfig: Omit<ConsumerConfig, 'groupId'>;
  groupPrefix: string;
  toDelivery(partition: number, message: KafkaMessage): Delivery;
  timeoutMs: number;
}

interface Span {
  partition: number;
  start: number;
  end: number;
}

/**
 * Reads retained records of one topic up to the high watermark seen at the start: kafkajs has no
 * manual assignment, so a throw-away group joins, seeks each partition to its start and leaves;
 * it commits nothing and is deleted afterwards.
 */
export async function readRetained(context: ReadContext, topic: string, range: ReadRange = {}): Promise<Delivery[]> {
  const { admin } = context;
  const watermarks = await admin.fetchTopicOffsets(topic);
  const byTime = range.fromTime === undefined ? [] : await admin.fetchTopicOffsetsByTimestamp(topic, range.fromTime);
  const spans: Span[] = watermarks
    .map(({ partition, low, high }) => {
      const timed = byTime.find((p) => p.partition === partition);
      const start = Math.max(Number(low), range.fromOffset ?? 0, timed ? Number(timed.offset) : 0);
      return { partition, start, end: Number(high) };
    })
    .filter((span) => span.start < span.end);
  if (spans.length === 0) return [];

  const groupId = `${context.groupPrefix}read.${randomUUID()}`;
  const consumer = context.kafka.consumer({ ...context.consumerConfig, groupId });
  const got = new Map<string, Delivery>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await collect(consumer, topic, spans, got, context);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return [...got.values()].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

async function collect(consumer: Consumer, topic: string, spans: Span[], got: Map<string, Delivery>, context: ReadContext): Promise<void> {
  const pending = new Map(spans.map((span) => [span.partition, span]));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const span = pending.get(batch.partition);
      if (!span) return;
      for (const message of batch.messages) {
        const offset = Number(message.offset);
        if (offset >= span.start && offset < span.end) got.set(`${batch.partition}:${offset}`, context.toDelivery(batch.partition, message));
      }
      if (Number(batch.lastOffset()) >= span.end - 1) {
        pending.delete(batch.partition);
        if (pending.size === 0) finish();
      }
    },
  });
  for (const span of spans) consumer.seek({ topic, partition: span.partition, offset: String(span.start) });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`read timed out after ${context.timeoutMs} ms with ${pending.size} partition(s) unread`)), context.timeoutMs);
  });
  try {
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
