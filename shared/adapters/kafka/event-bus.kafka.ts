import {
  CompressionTypes,
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type ConsumerConfig,
  type KafkaMessage,
  type LogEntry,
  type RetryOptions,
} from 'kafkajs';
import { OrchestrationError } from '../../errors.js';
import type { BatchOptions, Delivery, EventBus, ReadRange, SubscribeOptions, Subscription } from '../../ports/event-bus.port.js';
import type { Logger } from '../../observability/logger.js';
import { decodeRecord, encodeBinary } from './cloudevents-binding.js';
import { handleInBatches, runKeyChains } from './key-chains.js';
import { createOffsetCommitter, type OffsetCommitter } from './offset-committer.js';
import { createSendQueue } from './send-queue.js';
import { readRetained } from './kafka-read.js';
import { retry } from '../../retry.js';

import { createTopicEnsurer, groupLag } from './kafka-topics.js';

// Just after a topic is created (or a broker restarts) KRaft briefly answers NOT_LEADER; kafkajs marks that retriable.
const metadataRetry = { retries: 10, initialDelayMs: 100, maxDelayMs: 2_000 };
/** A consumer that crashed for good is started again after 1 s, then every 2, 4 … up to 15 s while that fails. */
const RESTART_FIRST_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 15_000;

/**
 * Runs `start` after 1 s and, while it fails, again after 2, 4 … up to 15 s, until it succeeds or
 * `stopped()` (both buses' consumers: a restart while the broker is still down fails too, and giving
 * up would leave the partitions unread for good). `onFailure` hears each failure and the next delay.
 */
export function restartWithBackoff(
  start: () => Promise<void>,
  stopped: () => boolean,
  onFailure: (error: unknown, nextDelayMs: number) => void,
  delayMs = RESTART_FIRST_DELAY_MS,
): void {
  setTimeout(() => {
    if (stopped()) return;
    start().catch((error: unknown) => {
      const next = Math.min(delayMs * 2, RESTART_MAX_DELAY_MS);
      onFailure(error, next);
      restartWithBackoff(start, stopped, onFailure, next);
    });
  }, delayMs).unref();
}

export interface KafkaConsumerTimings {
  sessionTimeout: number;
  heartbeatInterval: number;
  rebalanceTimeout: number;
  /** How long the broker holds an empty fetch: bounds how fast stop() and rebalances happen. */
  maxWaitTimeInMs: number;
}

export interface KafkaEventBusOptions {
  /** Partitions a consumer works on at once (default: the partition count). */
  partitionsConsumedConcurrently?: number;
  /** Keys (workflows) a consumer works on at once within one partition's batch. Default 4. */
  keysConsumedConcurrently?: number;
  brokers: string[];
  clientId: string;
  /** Partitions of the topics this bus creates. Default 6. */
  partitions?: number;
  replicationFactor?: number;
  /** Namespaces every topic and group (an environment, a test run); deliveries report the bare name. */
  topicPrefix?: string;
  logger?: Logger;
  consumer?: Partial<KafkaConsumerTimings>;
  /** kafkajs retry for connections, requests and a consumer whose handler threw. */
  retry?: RetryOptions;
  connectionTimeout?: number;
  requestTimeout?: number;
  /** Upper bound of one read(). Default 30 s. */
  readTimeoutMs?: number;
  /**
   * Hand a subscriber that takes batches (handleBatch) up to `maxRecords` of a partition's fetch at
   * once, of at most `keysConsumedConcurrently` different keys. `lingerMs` becomes the broker's fetch wait for a fuller fetch (minBytes). Default: off.
   */
  batch?: BatchOptions;
  /**
   * How often a consumer commits the offsets it resolved (KAFKA_OFFSET_COMMIT_INTERVAL_MS); 0 commits
   * after every fetched batch, as kafkajs does by itself. Default DEFAULT_OFFSET_COMMIT_INTERVAL_MS.
   */
  offsetCommitIntervalMs?: number;
}

export const DEFAULT_OFFSET_COMMIT_INTERVAL_MS = 200;

/** A fetch worth holding for while lingering: about `maxRecords` small CloudEvents. */
const LINGER_BYTES_PER_RECORD = 512;

/** Keys at once per partition (KAFKA_KEYS_CONCURRENCY): more gives larger groups but a longer chaos re-dispatch tail (shared/env.ts). */
export const DEFAULT_KEYS_CONCURRENCY = 16;

/** kafkajs's own defaults, except a 1 s fetch wait so stop() and rebalances are not held up 5 s. */
export const defaultConsumerTimings: KafkaConsumerTimings = {
  sessionTimeout: 30_000,
  heartbeatInterval: 3_000,
  rebalanceTimeout: 60_000,
  maxWaitTimeInMs: 1_000,
};

/**
 * Bounded settings for tests on a small machine: 6 s is the broker's minimum session
 * (`group.min.session.timeout.ms`); frequent heartbeats and short fetch waits make members notice a
 * rebalance within half a second.
 */
export const testConsumerTimings: KafkaConsumerTimings = { sessionTimeout: 6_000, heartbeatInterval: 300, rebalanceTimeout: 5_000, maxWaitTimeInMs: 200 };

/**
 * EventBus on Apache Kafka (kafkajs). Records are CloudEvents in binary mode, keyed by workflow so one
 * workflow's events stay on one partition; an idempotent producer with acks=all. Each subscribe is
 * one consumer of its group, handling different keys at once and each key in order; an offset is
 * committed only after the handler resolved for it and every record before it, and a throwing
 * handler makes kafkajs seek back to that record (redelivery, never a skip).
 */
export function createKafkaEventBus(options: KafkaEventBusOptions): EventBus {
  const prefix = options.topicPrefix ?? '';
  const logger = options.logger;
  const timings = { ...defaultConsumerTimings, ...options.consumer };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => forward(logger, entry),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.connectionTimeout ? { connectionTimeout: options.connectionTimeout } : {}),
    ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
  });
  const batchMax = options.batch && options.batch.maxRecords > 1 ? options.batch.maxRecords : 1;
  const commitEveryMs = options.offsetCommitIntervalMs ?? DEFAULT_OFFSET_COMMIT_INTERVAL_MS;
  const consumerConfig: Omit<ConsumerConfig, 'groupId'> = { ...timings, allowAutoTopicCreation: false, ...(options.retry ? { retry: options.retry } : {}) };
  const lingerMs = batchMax > 1 ? (options.batch?.lingerMs ?? 0) : 0;
  // The broker holds a fetch until it has about a batch or the linger ends; stop() waits at most that long more.
  const lingering: Partial<ConsumerConfig> =
    lingerMs > 0 ? { minBytes: batchMax * LINGER_BYTES_PER_RECORD, maxWaitTimeInMs: Math.min(lingerMs, timings.maxWaitTimeInMs) } : {};
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  const enqueue = createSendQueue(async (topicMessages) => void (await producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None })));
  const admin = kafka.admin();
  const connected = { producer: lazy(() => producer.connect()), admin: lazy(() => admin.connect()) };
  const adminReady = async (): Promise<Admin> => (await connected.admin(), admin);
  const ensureTopic = createTopicEnsurer(adminReady, { partitions: options.partitions ?? 6, replicationFactor: options.replicationFactor ?? -1 });
  const consumers = new Set<Consumer>();
  const committers = new Set<OffsetCommitter>();
  let closed = false;

  const physical = (topic: string): string => `${prefix}${topic}`;
  /** For a group with no committed offsets yet: commit the topic's current end offsets. */
  const startGroupAtEnd = async (groupId: string, topic: string): Promise<void> => {
    const admin = await adminReady();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (committed && committed.partitions.some((p) => p.offset !== '-1')) return;
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId, topic, partitions: ends.map((end) => ({ partition: end.partition, offset: end.high })) });
  };
  const logical = (topic: string): string => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  const toDelivery = (topic: string, partition: number, message: KafkaMessage): Delivery => {
    const { value, headers } = decodeRecord(message.value, message.headers);
    const key = message.key === null ? null : message.key.toString();
    return { topic: logical(topic), partition, offset: Number(message.offset), key, timestamp: Number(message.timestamp), value, headers };
  };
  const open = (): void => {
    if (closed) throw new OrchestrationError('BUS_CLOSED', 'the Kafka event bus is closed');
  };

  return {
    async publish(topic, messages, headers = {}) {
      open();
      if (messages.length === 0) return;
      await ensureTopic(physical(topic));
      await connected.producer();
      await enqueue(
        physical(topic),
        messages.map(({ key, event }) => {
          const encoded = encodeBinary(event);
          return { key, value: encoded.value, headers: { ...headers, ...encoded.headers } };
        }),
      );
    },

    async subscribe(subscription: SubscribeOptions): Promise<Subscription> {
      open();
      const topic = physical(subscription.topic);
      await ensureTopic(topic);
      let current: Consumer | undefined;
      let currentCommitter: OffsetCommitter | undefined;
      let stopping: Promise<void> | undefined;

      const groupId = physical(subscription.groupId);
      // A new group "at the end" means the end when subscribe() is called: commit the current end
      // offsets for it before it joins, instead of trusting "latest" whenever the join completes.
      if (subscription.fromBeginning === false) await retry(metadataRetry, () => startGroupAtEnd(groupId, topic));

      const start = async (): Promise<void> => {
        const handleBatch = batchMax > 1 ? subscription.handleBatch : undefined;
        const consumer = kafka.consumer({ ...consumerConfig, ...(handleBatch ? lingering : {}), groupId });
        current = consumer;
        consumers.add(consumer);
        const committer = commitEveryMs > 0 ? createOffsetCommitter(consumer, topic, commitEveryMs, logger) : undefined;
        currentCommitter = committer;
        if (committer) committers.add(committer);
        /** The consumer is gone without a graceful stop: its timer ends, and nothing more is committed. */
        const dropCommitter = async (): Promise<void> => {
          if (!committer) return;
          committers.delete(committer);
          await committer.stop({ flush: false });
        };
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => committer?.assign(payload.memberAssignment[topic] ?? []));
        // kafkajs restarts a crashed consumer only after a retriable error; after any other (e.g. the
        // broker restarted mid-rebalance) the consumer would stay dead with its partitions unread.
        // A crash during the first join (seen: a TypeError in kafkajs's join on a just-created topic)
        // leaves run() awaiting this consumer's disconnect, which took minutes: stop waiting for it.
        let abandonStart: () => void = () => undefined;
        const abandoned = new Promise<void>((resolve) => (abandonStart = resolve));
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (payload.restart || stopping || closed) return;
          logger?.error('kafka consumer crashed for good; starting a new one', { groupId: subscription.groupId, error: String(payload.error) });
          consumers.delete(consumer);
          void dropCommitter();
          abandonStart();
          restartLater();
        });
        try {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
        } catch (error) {
          consumers.delete(consumer);
          await dropCommitter();
          await consumer.disconnect().catch(() => undefined);
          throw error;
        }
        await Promise.race([
          abandoned,
          consumer.run({
            // Partitions in parallel, and within a partition keys in parallel, each key strictly in
            // order: one workflow's events never overtake each other.
            partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? options.partitions ?? 6,
            eachBatchAutoResolve: false,
            // With a committer, offsets leave on its interval, not after every batch.
            autoCommit: committer === undefined,
            eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
              const resolve = (offset: string): void => {
                resolveOffset(offset);
                committer?.resolved(batch.partition, offset);
              };
              // A slow handler must not let the session lapse and hand its partition to another member mid-work.
              const beat = setInterval(() => void heartbeat().catch(() => undefined), timings.heartbeatInterval);
              try {
                if (handleBatch) {
                  await handleInBatches(batch.messages, {
                    maxRecords: batchMax,
                    maxKeys: options.keysConsumedConcurrently ?? DEFAULT_KEYS_CONCURRENCY,
                    handle: (messages) => handleBatch(messages.map((message) => toDelivery(batch.topic, batch.partition, message))),
                    resolve,
                    proceed: () => isRunning() && !isStale(),
                  });
                } else {
                  await runKeyChains(batch.messages, {
                    concurrency: options.keysConsumedConcurrently ?? DEFAULT_KEYS_CONCURRENCY,
                    handle: (message) => subscription.handler(toDelivery(batch.topic, batch.partition, message)),
                    resolve,
                    proceed: () => isRunning() && !isStale(),
                  });
                }
              } finally {
                clearInterval(beat);
              }
              await commitOffsetsIfNecessary();
              if (committer && (stopping !== undefined || closed))
                await committer.flush((offsets) => commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: offsets }] }));
            },
          }),
        ]);
      };

      // kafkajs gives up connecting after its retries (seen: a 15 s broker restart in the chaos suite).
      const restartLater = (): void =>
        restartWithBackoff(
          start,
          () => stopping !== undefined || closed,
          (error, inMs) => logger?.error('kafka consumer restart failed; trying again', { groupId: subscription.groupId, inMs, error: String(error) }),
        );

      await start();
      return {
        stop() {
          stopping ??= (async () => {
            const consumer = current;
            // What is resolved goes out before leaving (a batch in flight commits its own at its end,
            // before kafkajs leaves the group), so the next owner does not handle it again. The timer
            // stops first: once kafkajs is stopping it drops the consumer's commits without a word.
            await currentCommitter?.stop({ flush: true });
            if (consumer) await consumer.disconnect().finally(() => consumers.delete(consumer));
          })();
          return stopping;
        },
      };
    },

    async lag(groupId, topic) {
      // Never ask the admin about a topic that does not exist: kafkajs then keeps it in the admin's
      // metadata set and retries for seconds, failing every other admin call meanwhile (a lone API
      // process's recovery loop asking about amas.subtasks.ready blocked its own start-up).
      await ensureTopic(physical(topic));
      return retry(metadataRetry, async () => groupLag(await adminReady(), physical(groupId), physical(topic)));
    },

    async read(topic: string, range?: ReadRange) {
      const context = {
        kafka,
        admin: await adminReady(),
        consumerConfig,
        groupPrefix: `${prefix}${options.clientId}.`,
        toDelivery: (partition: number, message: KafkaMessage) => toDelivery(physical(topic), partition, message),
        timeoutMs: options.readTimeoutMs ?? 30_000,
      };
      // A topic nobody has written to yet holds nothing: create it empty rather than fail the read.
      await ensureTopic(physical(topic));
      return retry(metadataRetry, () => readRetained(context, physical(topic), range));
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...committers].map((committer) => committer.stop({ flush: true })));
      await Promise.allSettled([...consumers].map((consumer) => consumer.disconnect()));
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}

/** Connects once; a failed connect is retried by the next caller instead of being cached. */
function lazy(connect: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => {
    pending ??= connect().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

function forward(logger: Logger | undefined, { namespace, level, log }: LogEntry): void {
  if (!logger) return;
  const { message, ...fields } = log;
  const line = `kafkajs ${namespace}: ${message}`;
  // Racing creators of one topic: kafkajs logs the broker's TOPIC_ALREADY_EXISTS as an error, but it is the outcome we want.
  const alreadyExists = fields.error === 'Topic creation errors' || fields.error === 'Topic with this name already exists';
  if (level === logLevel.ERROR && !alreadyExists) logger.error(line, fields);
  else if (level === logLevel.WARN) logger.warn(line, fields);
  else logger.debug(line, fields);
}
