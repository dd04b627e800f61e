// kafkajs against @platformatic/kafka behind the same EventBus port, on the real local broker, in one
// process and interleaved: raw kafkajs (producer + eachMessage, the floor), the kafkajs EventBus and
// the platformatic EventBus. Per candidate: round trip p50/p99 (publish one, await its delivery),
// throughput (publish in batches of 100, await all) and CPU time per record (process.cpuUsage over
// the throughput phase: producer and consumer both run here, so it is the whole client's cost).
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaEventBus, testConsumerTimings } from '../shared/adapters/kafka/event-bus.kafka.js';
import { createPlatformaticEventBus } from '../shared/adapters/kafka-platformatic/event-bus.platformatic.js';
import type { AnyCloudEvent } from '../shared/events/envelope.js';
import type { EventBus } from '../shared/ports/event-bus.port.js';
import { catalogSamples } from './bytes-events.js';
import { benchOptions, createReport, distribution, isEntryPoint, now, printReport, waitUntil, type BenchOptions, type Report } from './lib.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

interface Candidate {
  name: string;
  /** Sends the events (keyed by workflow) and resolves when the broker acknowledged them. */
  send(events: AnyCloudEvent[]): Promise<void>;
  close(): Promise<void>;
}

interface Sample {
  roundTrips: number[];
  perSecond: number[];
  cpuMicrosPerRecord: number[];
}

export async function runKafkaClientsBench(options: BenchOptions): Promise<Report> {
  const run = randomUUID().slice(0, 8);
  const prefix = `bench-kc-${run}.`;
  const volume = options.quick ? { rounds: 2, roundTrips: 30, records: 1_000 } : { rounds: 3, roundTrips: 200, records: 10_000 };
  const report = createReport(`Kafka clients behind the EventBus port${options.quick ? ' (--quick)' : ''}`);
  const template = catalogSamples().find((e) => e.type === 'subtask.completed')!;
  let seen = 0;
  const waiting = new Map<string, () => void>();
  const arrived = (id: string | undefined): void => {
    seen += 1;
    if (id !== undefined) waiting.get(id)?.();
  };

  const kafka = new Kafka({ clientId: `bench-kc-${run}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const candidates: Candidate[] = [];

  // Raw kafkajs: what a client does with no port, no binding, no key chains.
  const rawTopic = `${prefix}raw`;
  await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: 6 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `${prefix}raw-g`, ...testConsumerTimings });
  await consumer.connect();
  await consumer.subscribe({ topics: [rawTopic], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachMessage: async ({ message }) => arrived((JSON.parse(message.value!.toString()) as { id?: string }).id),
  });
  candidates.push({
    name: 'raw kafkajs',
    send: async (events) =>
      void (await producer.send({ topic: rawTopic, acks: -1, messages: events.map((e) => ({ key: String(e.workflowid), value: JSON.stringify(e) })) })),
    close: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  });

  const viaBus = async (name: string, bus: EventBus): Promise<void> => {
    const topic = 'events';
    const subscription = await bus.subscribe({ topic, groupId: 'g', handler: async (d) => arrived((d.value as { id?: string }).id) });
    candidates.push({
      name,
      send: (events) =>
        bus.publish(
          topic,
          events.map((event) => ({ key: String(event.workflowid), event })),
        ),
      close: async () => {
        await subscription.stop();
        await bus.close();
      },
    });
  };
  await viaBus(
    'kafkajs EventBus',
    createKafkaEventBus({ brokers, clientId: `bench-kc-${run}-kjs`, partitions: 6, topicPrefix: `${prefix}kjs.`, consumer: testConsumerTimings }),
  );
  await viaBus(
    'platformatic EventBus',
    createPlatformaticEventBus({ brokers, clientId: `bench-kc-${run}-plt`, partitions: 6, topicPrefix: `${prefix}plt.`, consumer: testConsumerTimings }),
  );

  const eventOf = (i: number): AnyCloudEvent => ({ ...template, id: `${run}-${i}-${randomUUID()}`, workflowid: `wf-${i % 64}` });
  const samples = new Map<string, Sample>(candidates.map((c) => [c.name, { roundTrips: [], perSecond: [], cpuMicrosPerRecord: [] }]));
  try {
    // Warm every path (group joins, metadata, JIT) before timing anything.
    for (const c of candidates) {
      const before = seen;
      await c.send(Array.from({ length: 50 }, (_, i) => eventOf(i)));
      await waitUntil(() => seen - before >= 50, 60_000, `${c.name} warm-up`);
    }
    for (let round = 0; round < volume.rounds; round += 1) {
      for (const c of candidates) {
        const sample = samples.get(c.name)!;
        for (let i = 0; i < volume.roundTrips; i += 1) {
          const event = eventOf(i);
          const delivered = new Promise<void>((resolve) => waiting.set(event.id, resolve));
          const started = now();
          await c.send([event]);
          await delivered;
          sample.roundTrips.push(now() - started);
          waiting.delete(event.id);
        }
        const before = seen;
        const cpu = process.cpuUsage();
        const started = now();
        for (let i = 0; i < volume.records; i += 100) await c.send(Array.from({ length: 100 }, (_, j) => eventOf(i + j)));
        await waitUntil(() => seen - before >= volume.records, 120_000, `${c.name} ${volume.records} records`);
        const elapsed = now() - started;
        const used = process.cpuUsage(cpu);
        sample.perSecond.push((volume.records * 1000) / elapsed);
        sample.cpuMicrosPerRecord.push((used.user + used.system) / volume.records);
      }
    }
  } finally {
    await Promise.allSettled(candidates.map((c) => c.close()));
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }

  const [raw] = candidates;
  const rawSample = samples.get(raw!.name)!;
  const median = (values: number[]): number => distribution(values).p50;
  for (const c of candidates) {
    const s = samples.get(c.name)!;
    const trips = distribution(s.roundTrips);
    report.figure(`${c.name}.rt.p50`, `${c.name} round trip p50`, trips.p50, 'ms');
    report.figure(`${c.name}.rt.p99`, `${c.name} round trip p99`, trips.p99, 'ms');
    report.figure(`${c.name}.rate`, `${c.name} throughput (median of ${volume.rounds})`, median(s.perSecond), 'records/s');
    report.figure(`${c.name}.cpu`, `${c.name} CPU per record (median)`, median(s.cpuMicrosPerRecord), 'µs');
    if (c === raw) continue;
    report.ratio(`${c.name}.rt`, `${c.name} round trip p50 / raw`, trips.p50, distribution(rawSample.roundTrips).p50);
    report.ratio(`${c.name}.rate`, `${c.name} throughput / raw`, median(s.perSecond), median(rawSample.perSecond));
    report.ratio(`${c.name}.cpu`, `${c.name} CPU per record / raw`, median(s.cpuMicrosPerRecord), median(rawSample.cpuMicrosPerRecord));
  }
  report.note(`subtask.completed events (${JSON.stringify(template).length} B), 64 keys, 6 partitions, acks=all, idempotent producers; rounds interleaved`);
  printReport(report, options.print);
  return report;
}

if (isEntryPoint(import.meta.url)) {
  runKafkaClientsBench(benchOptions()).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
