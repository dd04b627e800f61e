import { Consumer, ProduceAcks, Producer, murmur2, stringDeserializer, stringSerializer, type Message, type MessagesStream } from '@platformatic/kafka';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { OrchestrationError } from '../../errors.js';
import type { Delivery, EventBus, SubscribeOptions, Subscription } from '../../ports/event-bus.port.js';
import { retry } from '../../retry.js';
import { decodeRecord, encodeBinary } from '../kafka/cloudevents-binding.js';
import { readRetained } from '../kafka/kafka-read.js';
import { createTopicEnsurer, groupLag } from '../kafka/kafka-topics.js';
import { defaultConsumerTimings, restartWithBackoff, type KafkaEventBusOptions } from '../kafka/event-bus.kafka.js';
import { createPartitionLanes } from './partition-lanes.js';

const metadataRetry = { retries: 10, initialDelayMs: 100, maxDelayMs: 2_000 };
/** How long closing a consumer may wait for the broker. */
const CLOSE_WAIT_MS = 5_000;
/** Records read ahead of the handlers before the reader waits for a lane. */
const MAX_IN_FLIGHT = 512;

/** The kafkajs bus's options that mean the same here (no key concurrency or batching: one partition at a time, in order). */
export type PlatformaticEventBusOptions = Pick<
  KafkaEventBusOptions,
  'brokers' | 'clientId' | 'partitions' | 'replicationFactor' | 'topicPrefix' | 'logger' | 'consumer' | 'readTimeoutMs'
>;

type Record_ = Message<string, Buffer, string, string>;

/**
 * EventBus on Apache Kafka through @platformatic/kafka (pure JavaScript) on the hot path — publish and
 * consume — with the same wire format as the kafkajs bus (CloudEvents binary mode, Java-compatible
 * murmur2 partitioning, so both clients put a key on the same partition). Topic creation, lag and
 * read() still go through kafkajs's admin: they are off the per-event path.
 */
export function createPlatformaticEventBus(options: PlatformaticEventBusOptions): EventBus {
  const prefix = options.topicPrefix ?? '';
  const timings = { ...defaultConsumerTimings, ...options.consumer };
  const producer = new Producer({
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    serializers: {
      key: stringSerializer,
      value: (value?: Buffer | string) => (value === undefined ? undefined : Buffer.from(value)),
      headerKey: stringSerializer,
      headerValue: stringSerializer,
    },
    // kafkajs's DefaultPartitioner (Java's): positive murmur2 of the key.
    partitioner: (_message, key) => (Buffer.isBuffer(key) ? murmur2(key) & 0x7fffffff : 0),
  });
  const kafka = new Kafka({ clientId: `${options.clientId}-admin`, brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const adminReady = async (): Promise<Admin> => {
    adminConnected ??= admin.connect().catch((error: unknown) => {
      adminConnected = undefined;
      throw error;
    });
    await adminConnected;
    return admin;
  };
  const ensureTopic = createTopicEnsurer(adminReady, { partitions: options.partitions ?? 6, replicationFactor: options.replicationFactor ?? -1 });
  const stops = new Set<() => Promise<void>>();
  let sending: Promise<unknown> = Promise.resolve();
  let closed = false;

  const physical = (topic: string): string => `${prefix}${topic}`;
  const logical = (topic: string): string => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  const open = (): void => {
    if (closed) throw new OrchestrationError('BUS_CLOSED', 'the Kafka event bus is closed');
  };
  const toDelivery = (record: Record_): Delivery => {
    const { value, headers } = decodeRecord(record.value ?? null, Object.fromEntries(record.headers));
    return {
      topic: logical(record.topic),
      partition: record.partition,
      offset: Number(record.offset),
      key: record.key ?? null,
      timestamp: Number(record.timestamp),
      value,
      headers,
    };
  };
  const startGroupAtEnd = async (groupId: string, topic: string): Promise<void> => {
    const client = await adminReady();
    const [committed] = await client.fetchOffsets({ groupId, topics: [topic] });
    if (committed && committed.partitions.some((p) => p.offset !== '-1')) return;
    const ends = await client.fetchTopicOffsets(topic);
    await client.setOffsets({ groupId, topic, partitions: ends.map((end) => ({ partition: end.partition, offset: end.high })) });
  };

  return {
    async publish(topic, messages, headers = {}) {
      open();
      if (messages.length === 0) return;
      await ensureTopic(physical(topic));
      const send = () =>
        producer.send({
          messages: messages.map(({ key, event }) => {
            const encoded = encodeBinary(event);
            return { topic: physical(topic), key, value: encoded.value ?? undefined, headers: { ...headers, ...encoded.headers } };
          }),
        });
      // One send at a time: with concurrent sends (500 workflows' agents reporting at once) records
      // whose sends had settled never reached the topic (bench/BYTES.md).
      const turn = sending.then(send);
      sending = turn.then(
        () => undefined,
        () => undefined,
      );
      await turn;
    },

    async subscribe(subscription: SubscribeOptions): Promise<Subscription> {
      open();
      const topic = physical(subscription.topic);
      const groupId = physical(subscription.groupId);
      await ensureTopic(topic);
      if (subscription.fromBeginning === false) await retry(metadataRetry, () => startGroupAtEnd(groupId, topic));
      let running = true;
      /**
       * One consumer and its stream. When the stream fails or ends while the subscription runs (the
       * broker went away and the client gave up reconnecting), the records its lanes still retry are
       * left uncommitted, it closes, and a new one joins the group and reads on from the committed
       * offsets: without this the partitions would stay unread for good.
       */
      const consumeOnce = async () => {
        const consumer = new Consumer({
          clientId: options.clientId,
          bootstrapBrokers: options.brokers,
          groupId,
          sessionTimeout: timings.sessionTimeout,
          heartbeatInterval: timings.heartbeatInterval,
          // This client insists on rebalanceTimeout >= sessionTimeout (kafkajs's test timings have 5 s < 6 s).
          rebalanceTimeout: Math.max(timings.rebalanceTimeout, timings.sessionTimeout),
          maxWaitTime: timings.maxWaitTimeInMs,
          deserializers: { key: stringDeserializer, headerKey: stringDeserializer, headerValue: stringDeserializer },
        });
        // Bounded: with the broker gone the close may wait on it, and a restart must not wait with it.
        const closeConsumer = () =>
          Promise.race([
            new Promise<void>((resolve) => consumer.close(true, () => resolve())),
            new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
          ]);
        let live = true;
        const lanes = createPartitionLanes<Record_>({
          handle: (record) => subscription.handler(toDelivery(record)),
          running: () => running && live,
          onCommitError: (error) => options.logger?.warn('platformatic kafka commit failed', { groupId: subscription.groupId, error: String(error) }),
        });
        let stream: MessagesStream<string, Buffer, string, string>;
        try {
          stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
        } catch (error) {
          await closeConsumer();
          throw error;
        }
        const reading = (async () => {
          for await (const record of stream as AsyncIterable<Record_>) {
            lanes.push(record);
            if (lanes.inFlight >= MAX_IN_FLIGHT) await lanes.drainOne();
            if (!running) break;
          }
        })().then(
          () => null,
          (error: unknown) => error,
        );
        let closing: Promise<void> | undefined;
        const close = (): Promise<void> => {
          closing ??= (async () => {
            live = false;
            await stream.close().catch(() => undefined);
            await reading;
            await lanes.settled();
            await closeConsumer();
          })();
          return closing;
        };
        return { reading, close };
      };

      let current = await consumeOnce();
      const restartLater = (): void =>
        restartWithBackoff(
          async () => {
            const next = await consumeOnce();
            if (!running) return void (await next.close());
            current = next;
            watch(next);
          },
          () => !running,
          (error, inMs) =>
            options.logger?.error('platformatic kafka consumer restart failed; trying again', { groupId: subscription.groupId, inMs, error: String(error) }),
        );
      const watch = (generation: Awaited<ReturnType<typeof consumeOnce>>): void => {
        void generation.reading.then(async (error) => {
          if (!running) return;
          options.logger?.error('platformatic kafka stream ended; starting a new consumer', { groupId: subscription.groupId, error: String(error) });
          await generation.close();
          restartLater();
        });
      };
      watch(current);

      let stopping: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        stopping ??= (async () => {
          running = false;
          stops.delete(stop);
          await current.close();
        })();
        return stopping;
      };
      stops.add(stop);
      return { stop };
    },

    async lag(groupId, topic) {
      await ensureTopic(physical(topic));
      return retry(metadataRetry, async () => groupLag(await adminReady(), physical(groupId), physical(topic)));
    },

    async read(topic, range) {
      await ensureTopic(physical(topic));
      const context = {
        kafka,
        admin: await adminReady(),
        consumerConfig: { ...timings, allowAutoTopicCreation: false },
        groupPrefix: `${prefix}${options.clientId}.`,
        toDelivery: (partition: number, message: KafkaMessage): Delivery => {
          const { value, headers } = decodeRecord(message.value, message.headers);
          const key = message.key === null ? null : message.key.toString();
          return { topic, partition, offset: Number(message.offset), key, timestamp: Number(message.timestamp), value, headers };
        },
        timeoutMs: options.readTimeoutMs ?? 30_000,
      };
      return retry(metadataRetry, () => readRetained(context, physical(topic), range));
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...stops].map((stop) => stop()));
      await Promise.allSettled([producer.close(), admin.disconnect()]);
    },
  };
}
