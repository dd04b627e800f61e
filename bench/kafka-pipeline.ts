// Kafka: raw kafkajs round trip and throughput, the EventBus adapter over the same broker, and the
// orchestrator's four-function pipeline (Kafka + PostgreSQL, one runtime per function) — per-step
// latency from per-event timestamps, and workflows/s for a batch of concurrent workflows.
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { cpuBetween, cpuSnapshot, ownerLabels, perUnit, type CpuSplit } from './cpu.js';
import { createKafkaEventBus, testConsumerTimings } from '../shared/adapters/kafka/event-bus.kafka.js';
import { createPlatformaticEventBus } from '../shared/adapters/kafka-platformatic/event-bus.platformatic.js';
import { groupLag } from '../shared/adapters/kafka/kafka-topics.js';
import { createPgClient } from '../shared/adapters/sql/sql-client.pg.js';
import type { AnyCloudEvent } from '../shared/events/envelope.js';
import type { EventBus } from '../shared/ports/index.js';
import { createMemoryAgentDirectory } from '../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../shared/adapters/memory/clock.system.js';
import { createIds } from '../shared/adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../shared/adapters/memory/lease-store.memory.js';
import { createSqlWorkflowStore } from '../shared/adapters/sql/workflow-store.sql.js';
import { defaultConfig } from '../shared/config.js';
import { loadInfra } from '../shared/env.js';
import { makeEvent, taskSubmitted, type OrchestrationEvent } from '../shared/events/index.js';
import type { StateChange, WorkflowStore } from '../shared/ports/index.js';
import type { QueryOptions, SqlClient } from '../shared/adapters/sql/sql-client.js';
import { silentLogger, type Logger } from '../shared/observability/logger.js';
import { toOutbox } from '../shared/engine/process-event.js';
import { startRuntime, type Runtime } from '../shared/runtime/runtime.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { v8FlagsInEffect } from '../shared/runtime/node-flags.js';
import { createReport, distribution, isEntryPoint, mean, now, printReport, runAsScript, waitUntil, wallClock, type BenchOptions, type Report } from './lib.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** A record about the size of a real orchestration event. */
const sampleEvent = (i: number): AnyCloudEvent => ({
  specversion: '1.0',
  id: `bench-${i}-${randomUUID()}`,
  source: 'amas/bench',
  type: 'bench.event',
  time: new Date().toISOString(),
  data: { workflowId: `wf_${i % 64}`, subtaskId: `st_${i}`, attempt: 1, agentId: 'demo-data_analyst-1', payload: 'x'.repeat(200) },
});

export async function runKafkaBench(options: BenchOptions): Promise<Report> {
  const run = randomUUID().slice(0, 8);
  const prefix = `bench-${run}.`;
  const schema = `amas_bench_${run}`;
  const volume = options.quick
    ? { roundTrips: 30, messages: 2_000, sequentialWorkflows: 2, concurrentWorkflows: 6, agentsPerSpecialty: 2 }
    : {
        roundTrips: 1_000,
        messages: 100_000,
        sequentialWorkflows: 20,
        concurrentWorkflows: Number(process.env.BENCH_WORKFLOWS ?? 150),
        agentsPerSpecialty: 40,
      };
  // As deployed: KAFKA_KEYS_CONCURRENCY (default 16) keys at once per partition.
  const infra = loadInfra();
  const keys = infra.KAFKA_KEYS_CONCURRENCY;
  const report = createReport(`Kafka pipeline benchmark${options.quick ? ' (--quick)' : ''}`);
  const kafka = new Kafka({ clientId: `bench-${run}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const sql = createPgClient(databaseUrl, { maxConnections: 1 });
  await sql.query(`CREATE SCHEMA ${schema}`);
  const buses: EventBus[] = [];
  const busFor =
    (setting: ConsumerSetting, topicPrefix: string) =>
    (name: string): EventBus => {
      const common = { brokers, clientId: `bench-${run}-${name}`, topicPrefix, consumer: testConsumerTimings };
      const bus =
        setting.client === 'platformatic'
          ? createPlatformaticEventBus(common)
          : createKafkaEventBus({
              ...common,
              keysConsumedConcurrently: setting.keys,
              offsetCommitIntervalMs: infra.KAFKA_OFFSET_COMMIT_INTERVAL_MS,
              batch: { maxRecords: setting.batchMaxRecords, lingerMs: setting.lingerMs },
            });
      buses.push(bus);
      return bus;
    };
  const deployed: ConsumerSetting = { keys, batchMaxRecords: infra.KAFKA_BATCH_MAX_RECORDS, lingerMs: infra.KAFKA_BATCH_LINGER_MS, client: 'kafkajs' };
  const openBus = busFor(deployed, prefix);
  const schemas = [schema];
  try {
    // 1. Round trips, raw kafkajs and the adapter interleaved so neither gains from running second.
    const bus = openBus('adapter');
    const { raw: rawRt, adapter: busRt } = await roundTrips(kafka, admin, bus, `${prefix}raw.rt`, 'adapter.rt', volume.roundTrips);
    report.figure('raw.rt.p50', 'raw kafkajs round trip p50', rawRt.p50, 'ms');
    report.figure('raw.rt.p99', 'raw kafkajs round trip p99', rawRt.p99, 'ms');
    report.figure('bus.rt.p50', 'adapter round trip p50', busRt.p50, 'ms');
    report.figure('bus.rt.p99', 'adapter round trip p99', busRt.p99, 'ms');

    // 2. Throughput: raw kafkajs, then the EventBus adapter (CloudEvents binary binding, idempotent producer).
    const { raw: rawTp, adapter: busTp } = await throughput(kafka, admin, bus, `${prefix}raw.tp`, 'adapter.tp', volume.messages);
    report.figure('raw.tp', 'raw kafkajs produce->consume', rawTp, 'events/s');
    report.figure('bus.tp', 'adapter publish->subscribe', busTp, 'events/s');

    // 3. The orchestrator: four function runtimes + demo agents, Kafka + PostgreSQL.
    const { latency, load } = await runPipeline({ openBus, databaseUrl, schema, ...volume });
    report.figure('pipe.step.mean', 'pipeline step (commit -> next commit) mean', latency.steps.mean, 'ms');
    report.figure('pipe.step.p50', 'pipeline step p50', latency.steps.p50, 'ms');
    report.figure('pipe.step.p99', 'pipeline step p99', latency.steps.p99, 'ms');
    report.figure('pipe.critical', 'workflow duration / critical-path steps', latency.perCriticalStep, 'ms');
    Object.entries(latency.breakdown).forEach(([part, ms], i) => report.figure(`pipe.part${i}`, `  of a step: ${part}`, ms, 'ms'));
    for (const [fn, f] of Object.entries(latency.byFunction)) {
      report.figure(`pipe.${fn}.p50`, `  step into ${fn} p50`, f.p50, 'ms');
      report.figure(`pipe.${fn}.handler`, `    of it: handler (read, decide)`, f.handler, 'ms');
    }
    report.figure('pipe.sql', '  SQL round trips per step (all sources)', latency.sqlPerStep, '');
    report.figure('pipe.wf', 'concurrent workflows through the pipeline', load.workflowsPerSecond, 'workflows/s');
    report.figure('pipe.events', '  events processed by the functions', load.eventsPerSecond, 'events/s');
    report.figure('pipe.records', '  records published to Kafka (all topics)', load.recordsPerSecond, 'records/s');
    report.figure('pipe.load.step', '  step under load, mean', load.steps.mean, 'ms');
    Object.entries(load.breakdown).forEach(([part, ms], i) => report.figure(`pipe.load.part${i}`, `    of it: ${part}`, ms, 'ms'));
    report.figure('pipe.cpu', '  CPU of this process (all runtimes)', load.cpuPercent, '% of one core');
    // Node, the broker, PostgreSQL and everything else on the box: what one event costs the machine.
    report.figure('pipe.machine', '  CPU of the whole machine per event', load.machineCpuMsPerEvent, 'ms');
    for (const [owner, ms] of Object.entries(load.cpuSplitMsPerEvent) as [keyof CpuSplit, number][])
      report.figure(`pipe.machine.${owner}`, `    of it: ${ownerLabels[owner]}`, ms, 'ms');
    report.figure('pipe.gc', `      of node's: garbage collection (${v8FlagsInEffect()})`, load.gcMsPerEvent, 'ms');
    report.figure('pipe.ceiling', '  ceiling at that cost, all cores busy', (load.cores * 1000) / load.machineCpuMsPerEvent, 'events/s');
    Object.entries(load.busy).forEach(([fn, pct]) => report.figure(`pipe.busy.${fn}`, `  ${fn} consumer busy`, pct, '% of the run'));

    const stepRatio = report.ratio('step/rt', 'pipeline step p50 / raw round trip p50', latency.steps.p50, rawRt.p50);
    report.ratio('step-mean/rt', 'pipeline step mean / raw round trip mean', latency.steps.mean, rawRt.mean);
    report.ratio('bus-rt/rt', 'adapter round trip p50 / raw p50', busRt.p50, rawRt.p50);
    report.ratio('bus/raw', 'adapter throughput / raw throughput', busTp, rawTp);
    report.ratio('events/raw', 'pipeline events/s / raw throughput', load.eventsPerSecond, rawTp);
    report.target(
      'per-step latency <= 3x raw round trip',
      stepRatio <= 3,
      `${stepRatio.toFixed(2)}x (p50 ${latency.steps.p50.toFixed(1)} ms vs ${rawRt.p50.toFixed(1)} ms)`,
    );
    report.target('>= 10,000 events/s through one broker (adapter)', busTp >= 10_000, `${Math.round(busTp)} events/s through createKafkaEventBus`);
    report.target(
      '>= 10,000 events/s through one broker (orchestrator)',
      load.eventsPerSecond >= 10_000,
      `${Math.round(load.eventsPerSecond)} events/s processed end to end`,
    );
    report.note(
      `${latency.count} steps measured over ${volume.sequentialWorkflows} sequential workflows; ${load.completed}/${volume.concurrentWorkflows} concurrent workflows completed (${load.failed} failed), ${load.eventsPerWorkflow.toFixed(1)} function events each`,
    );
    report.note(`events that changed nothing under load: ${load.skips.join('; ') || 'none'}`);

    // 4. Side by side: the consumer settings against the same raw baselines, one fresh pipeline each.
    const chosen = process.env.BENCH_SETTINGS?.split(',').map((tag) => tag.trim());
    const compared = settingsCompared.filter((c) =>
      chosen ? chosen.includes(c.tag) : !c.optIn && (!options.quick || (c.setting.keys === deployed.keys && c.setting.client === 'kafkajs')),
    );
    const rows: ComparedRow[] = [];
    for (const { tag, label, setting } of compared) {
      const sameAsAbove =
        setting.client === deployed.client &&
        setting.keys === deployed.keys &&
        setting.batchMaxRecords === deployed.batchMaxRecords &&
        setting.lingerMs === deployed.lingerMs;
      let figures = { latency, load };
      if (!sameAsAbove) {
        const tagged = `${schema}_${tag}`;
        schemas.push(tagged);
        await sql.query(`CREATE SCHEMA ${tagged}`);
        figures = await runPipeline({ openBus: busFor(setting, `${prefix}${tag}.`), databaseUrl, schema: tagged, ...volume });
      }
      rows.push({ tag, label, ...figures });
    }
    for (const { tag, label, latency: l, load: w } of rows) {
      report.figure(`cmp.${tag}.p50`, `${label}: step p50`, l.steps.p50, 'ms');
      report.figure(`cmp.${tag}.p99`, `${label}: step p99`, l.steps.p99, 'ms');
      report.ratio(`cmp.${tag}.p50/rt`, `${label}: step p50 / raw round trip p50`, l.steps.p50, rawRt.p50);
      report.ratio(`cmp.${tag}.p99/rt`, `${label}: step p99 / raw round trip p99`, l.steps.p99, rawRt.p99);
      report.figure(`cmp.${tag}.machine`, `${label}: machine CPU per event`, w.machineCpuMsPerEvent, 'ms');
      report.figure(`cmp.${tag}.events`, `${label}: events/s`, w.eventsPerSecond, 'events/s');
      report.figure(`cmp.${tag}.wf`, `${label}: workflows/s`, w.workflowsPerSecond, 'workflows/s');
    }
    report.note(
      `side by side (raw round trip p50 ${rawRt.p50.toFixed(1)} ms, p99 ${rawRt.p99.toFixed(1)} ms; ${volume.concurrentWorkflows} concurrent workflows):`,
    );
    report.note(
      'setting                       | step p50 (x raw) | step p99 (x raw) | CPU ms/event | node / broker / pg | events/s | workflows/s | completed, events that changed nothing | SQL round trips / publishes per event, records per batch',
    );
    for (const { label, latency: l, load: w } of rows) {
      const cells = [
        label.padEnd(29),
        `${l.steps.p50.toFixed(1)} (${(l.steps.p50 / rawRt.p50).toFixed(1)}x)`.padStart(16),
        `${l.steps.p99.toFixed(1)} (${(l.steps.p99 / rawRt.p99).toFixed(1)}x)`.padStart(16),
        w.machineCpuMsPerEvent.toFixed(2).padStart(12),
        [w.cpuSplitMsPerEvent.node, w.cpuSplitMsPerEvent.kafka, w.cpuSplitMsPerEvent.postgres]
          .map((ms) => ms.toFixed(2))
          .join(' / ')
          .padStart(18),
        w.eventsPerSecond.toFixed(0).padStart(8),
        w.workflowsPerSecond.toFixed(1).padStart(11),
        `${w.completed}/${volume.concurrentWorkflows}, ${w.eventsPerWorkflow.toFixed(1)} ev/wf, ${w.skipped} no-op`,
        `${w.sqlPerEvent.toFixed(2)} / ${w.publishesPerEvent.toFixed(2)} / ${w.recordsPerBatch.toFixed(1)}`,
      ];
      report.note(cells.join(' | '));
    }
    for (const { label, load: w } of rows) report.note(`${label}, SQL round trips per event by statement: ${w.statementsPerEvent.join('; ')}`);
    const best = rows.reduce((a, b) => (b.load.workflowsPerSecond > a.load.workflowsPerSecond ? b : a));
    const leanest = rows.reduce((a, b) => (b.load.machineCpuMsPerEvent < a.load.machineCpuMsPerEvent ? b : a));
    report.target(
      'whole-machine CPU per function event <= 0.8 ms',
      leanest.load.machineCpuMsPerEvent <= 0.8,
      `${leanest.load.machineCpuMsPerEvent.toFixed(2)} ms at best (${leanest.label})`,
    );
    report.target('>= 150 workflows/s', best.load.workflowsPerSecond >= 150, `${best.load.workflowsPerSecond.toFixed(1)} workflows/s at best (${best.label})`);
  } finally {
    await Promise.allSettled(buses.map((b) => b.close()));
    for (const name of schemas) await sql.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
    await sql.close();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
  }
  printReport(report, options.print);
  return report;
}

interface ConsumerSetting {
  keys: number;
  batchMaxRecords: number;
  lingerMs: number;
  /** KAFKA_CLIENT: @platformatic/kafka runs a partition's records one at a time (no keys or batches). */
  client: 'kafkajs' | 'platformatic';
}

/**
 * KAFKA_KEYS_CONCURRENCY 4 and 16 (deployed), record at a time and in batches (KAFKA_BATCH_MAX_RECORDS,
 * KAFKA_BATCH_LINGER_MS), and KAFKA_CLIENT=platformatic. BENCH_SETTINGS=k4,pf runs only those tags;
 * k16b2 and k16b10 (batches with a 2 or 10 ms linger) run only when named.
 */
const BENCH_BATCH = { batchMaxRecords: Number(process.env.BENCH_BATCH_MAX_RECORDS ?? 64), lingerMs: Number(process.env.BENCH_BATCH_LINGER_MS ?? 0) };
const settingsCompared: { tag: string; label: string; setting: ConsumerSetting; optIn?: boolean }[] = [
  { tag: 'k4', label: 'keys 4, record at a time', setting: { keys: 4, batchMaxRecords: 1, lingerMs: 0, client: 'kafkajs' } },
  { tag: 'k16', label: 'keys 16, record at a time', setting: { keys: 16, batchMaxRecords: 1, lingerMs: 0, client: 'kafkajs' } },
  { tag: 'k4b', label: `keys 4, batches of ${BENCH_BATCH.batchMaxRecords}`, setting: { keys: 4, ...BENCH_BATCH, client: 'kafkajs' } },
  { tag: 'k16b', label: `keys 16, batches of ${BENCH_BATCH.batchMaxRecords}`, setting: { keys: 16, ...BENCH_BATCH, client: 'kafkajs' } },
  { tag: 'pf', label: '@platformatic/kafka', setting: { keys: 1, batchMaxRecords: 1, lingerMs: 0, client: 'platformatic' } },
  // Named in BENCH_SETTINGS only: batches the broker holds a fetch for (up to the linger) to fill.
  ...[2, 10].map((lingerMs) => ({
    tag: `k16b${lingerMs}`,
    label: `keys 16, batches, ${lingerMs} ms linger`,
    setting: { keys: 16, batchMaxRecords: BENCH_BATCH.batchMaxRecords, lingerMs, client: 'kafkajs' as const },
    optIn: true,
  })),
];

type ComparedRow = { tag: string; label: string } & Awaited<ReturnType<typeof runPipeline>>;

async function roundTrips(kafka: Kafka, admin: Admin, bus: EventBus, rawTopic: string, busTopic: string, count: number) {
  await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `${rawTopic}.group`, ...testConsumerTimings });
  await Promise.all([producer.connect(), consumer.connect()]);
  let arrived: (() => void) | undefined;
  await consumer.subscribe({ topics: [rawTopic], fromBeginning: true });
  await consumer.run({ eachMessage: async () => arrived?.() });
  const subscription = await bus.subscribe({ topic: busTopic, groupId: `${busTopic}.group`, handler: async () => arrived?.() });
  const timed = async (send: () => Promise<void>, what: string) => {
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<void>((resolve, reject) => {
      arrived = resolve;
      // A record that never arrives fails the run with its name instead of hanging it.
      timer = setTimeout(() => reject(new Error(`round trip: ${what} was not delivered within 15 s`)), 15_000);
    });
    const started = now();
    try {
      await send();
      await got;
    } finally {
      clearTimeout(timer);
    }
    return now() - started;
  };
  const sendRaw = (i: number) => () =>
    producer.send({ topic: rawTopic, acks: -1, messages: [{ key: 'k', value: JSON.stringify(sampleEvent(i)) }] }).then(() => undefined);
  const sendBus = (i: number) => () => bus.publish(busTopic, [{ key: 'k', event: sampleEvent(i) }]);
  // The first records wait for the groups to join; then a few to warm up.
  for (let i = 0; i < 20; i++) {
    await timed(sendRaw(-1), `warm-up raw record ${i}`);
    await timed(sendBus(-1), `warm-up adapter record ${i}`);
  }
  const raw: number[] = [];
  const adapter: number[] = [];
  for (let i = 0; i < count; i++) {
    raw.push(await timed(sendRaw(i), `raw record ${i}`));
    adapter.push(await timed(sendBus(i), `adapter record ${i}`));
  }
  await Promise.all([producer.disconnect(), consumer.disconnect(), subscription.stop()]);
  return { raw: distribution(raw), adapter: distribution(adapter) };
}

/**
 * End-to-end rates (first send -> last receipt) of raw kafkajs and the adapter, one consumer group
 * each on 6 partitions, in batches of 500 with acks=all; measured raw, adapter, adapter, raw.
 */
async function throughput(kafka: Kafka, admin: Admin, bus: EventBus, rawTopic: string, busTopic: string, count: number) {
  await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: 6 }], waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `${rawTopic}.group`, ...testConsumerTimings });
  await Promise.all([producer.connect(), consumer.connect()]);
  let received = 0;
  await consumer.subscribe({ topics: [rawTopic], fromBeginning: true });
  await consumer.run({ eachMessage: async () => void (received += 1) });
  const subscription = await bus.subscribe({ topic: busTopic, groupId: `${busTopic}.group`, handler: async () => void (received += 1) });
  const batches = (n: number) =>
    Array.from({ length: Math.ceil(n / 500) }, (_, b) => Array.from({ length: Math.min(500, n - b * 500) }, (_, j) => sampleEvent(b * 500 + j)));
  const sendRaw = (events: AnyCloudEvent[]) =>
    producer.send({ topic: rawTopic, acks: -1, messages: events.map((event, i) => ({ key: `wf_${i % 64}`, value: JSON.stringify(event) })) });
  const sendBus = (events: AnyCloudEvent[]) =>
    bus.publish(
      busTopic,
      events.map((event, i) => ({ key: `wf_${i % 64}`, event })),
    );
  const burst = async (send: (events: AnyCloudEvent[]) => Promise<unknown>, n: number) => {
    const pending = batches(n);
    received = 0;
    const started = now();
    for (const batch of pending) await send(batch);
    await waitUntil(() => received >= n, 120_000, `${n} records`);
    return (n * 1000) / (now() - started);
  };
  await burst(sendRaw, 1); // both groups join before anything is timed
  await burst(sendBus, 1);
  const half = Math.ceil(count / 2);
  const raw1 = await burst(sendRaw, half);
  const bus1 = await burst(sendBus, half);
  const bus2 = await burst(sendBus, half);
  const raw2 = await burst(sendRaw, half);
  await Promise.all([producer.disconnect(), consumer.disconnect(), subscription.stop()]);
  return { raw: (raw1 + raw2) / 2, adapter: (bus1 + bus2) / 2 };
}

// ---- the orchestrator pipeline ----------------------------------------------------------------

interface PipelineVolume {
  sequentialWorkflows: number;
  concurrentWorkflows: number;
  /** Demo agents per specialty; each takes enough tasks at once that the batch measures the pipeline, not agent capacity. */
  agentsPerSpecialty: number;
}

type Phase = 'warm-up' | 'latency' | 'load';
interface Step {
  consumer: string;
  total: number;
  wait: number;
  publish: number;
  deliver: number;
  handle: number;
  commit: number;
}

/** Per-event timestamps, taken at the ports the runtime already calls (no change to the runtime). */
class Tracer {
  /** Event id -> when it became durable (outbox commit) or, for agents' direct publishes, was published. */
  readonly born = new Map<string, number>();
  readonly published = new Map<string, { start: number; end: number }>();
  readonly received = new Map<string, number>();
  /** Event id -> the event whose processing emitted it (an agent's answer -> its dispatch). */
  readonly parent = new Map<string, string>();
  readonly dispatchOf = new Map<string, string>();
  readonly steps: Record<Phase, Step[]> = { 'warm-up': [], latency: [], load: [] };
  readonly finished = new Map<string, { at: number; status: string; lastEvent: string }>();
  readonly started = new Map<string, number>();
  phase: Phase = 'warm-up';
  commits = 0;
  records = 0;
  sqlRoundTrips = 0;
  /** bus.publish calls (produce requests the functions and agents ask for) and handleBatch calls with their records. */
  publishCalls = 0;
  batchCalls = 0;
  batchRecords = 0;

  /** The counters now; `since` gives what they grew by after such a reading. */
  counts() {
    const { commits, records, sqlRoundTrips, publishCalls, batchCalls, batchRecords } = this;
    return { commits, records, sqlRoundTrips, publishCalls, batchCalls, batchRecords };
  }
  since(before: ReturnType<Tracer['counts']>): ReturnType<Tracer['counts']> {
    const now = this.counts();
    return Object.fromEntries(Object.entries(now).map(([key, value]) => [key, value - before[key as keyof typeof now]])) as typeof now;
  }
  /** Why handlers emitted nothing, during the load phase (from the runtime's 'event skipped' debug log). */
  readonly skips = new Map<string, number>();
  readonly logger: Logger = {
    ...silentLogger,
    debug: (message, fields) => {
      if (message !== 'event skipped' || this.phase !== 'load') return;
      const why = `${String(fields?.function)}: ${String(fields?.why).replace(/\d+/g, 'N')}`;
      this.skips.set(why, (this.skips.get(why) ?? 0) + 1);
    },
  };

  /** Under load: statements by their opening text (a transaction's BEGIN and COMMIT as one entry). */
  readonly statements = new Map<string, number>();
  private countStatement(opening: string): void {
    this.statements.set(opening, (this.statements.get(opening) ?? 0) + 1);
  }

  /** Counts statements plus each transaction's BEGIN and COMMIT: the store's round trips to PostgreSQL. */
  sql(inner: SqlClient): SqlClient {
    const count = (client: SqlClient): SqlClient => ({
      groupCommit: client.groupCommit,
      query: <R>(text: string, params?: unknown[], options?: QueryOptions) => {
        this.sqlRoundTrips += 1;
        if (this.phase === 'load') this.countStatement(text.replace(/\s+/g, ' ').trim().slice(0, 48));
        return client.query<R>(text, params, options);
      },
      transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => {
        this.sqlRoundTrips += 2;
        if (this.phase === 'load') this.countStatement('BEGIN … COMMIT');
        return client.transaction((tx) => fn(count(tx)));
      },
      close: () => client.close(),
    });
    return count(inner);
  }

  store(inner: WorkflowStore): WorkflowStore {
    return {
      ...inner,
      createWorkflow: async (input, outbox) => {
        const result = await inner.createWorkflow(input, outbox);
        const at = wallClock();
        this.started.set(input.id, at);
        for (const m of outbox) this.born.set(m.event.id, at);
        return result;
      },
      hasProcessed: async (consumer, eventId) => {
        if (!this.received.has(eventId)) this.received.set(eventId, wallClock());
        return inner.hasProcessed(consumer, eventId);
      },
      readForEvent: async (consumer, eventId, workflowId, scope) => {
        if (!this.received.has(eventId)) this.received.set(eventId, wallClock());
        return inner.readForEvent(consumer, eventId, workflowId, scope);
      },
      commit: async (change) => {
        const begun = wallClock();
        const outcome = await inner.commit(change);
        if (outcome === 'applied') this.committed(change, begun, wallClock());
        return outcome;
      },
      commitClaimed: async (change, claimMs) => {
        const begun = wallClock();
        const outcome = await inner.commitClaimed(change, claimMs);
        if (outcome.status === 'applied') this.committed(change, begun, wallClock());
        return outcome;
      },
    };
  }

  bus(inner: EventBus): EventBus {
    // Receipt is stamped at delivery too: assign on carried state reads nothing (no readForEvent to stamp it).
    const stamp = (value: unknown) => {
      const id = (value as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && !this.received.has(id)) this.received.set(id, wallClock());
    };
    return {
      ...inner,
      subscribe: (options) =>
        inner.subscribe({
          ...options,
          handler: (delivery) => (stamp(delivery.value), options.handler(delivery)),
          ...(options.handleBatch
            ? {
                handleBatch: (deliveries) => {
                  this.batchCalls += 1;
                  this.batchRecords += deliveries.length;
                  deliveries.forEach((d) => stamp(d.value));
                  return options.handleBatch!(deliveries);
                },
              }
            : {}),
        }),
      publish: async (topic, messages, headers) => {
        const start = wallClock();
        await inner.publish(topic, messages, headers);
        const end = wallClock();
        this.records += messages.length;
        this.publishCalls += 1;
        for (const { event } of messages) {
          this.published.set(event.id, { start, end });
          if (!this.born.has(event.id)) this.born.set(event.id, start);
          const data = event.data as { subtaskId?: string; attempt?: number };
          const attemptKey = `${data.subtaskId}#${data.attempt}`;
          if (event.type === 'subtask.dispatched') this.dispatchOf.set(attemptKey, event.id);
          const dispatched = this.dispatchOf.get(attemptKey);
          if ((event.type === 'subtask.completed' || event.type === 'subtask.failed') && dispatched && !this.parent.has(event.id))
            this.parent.set(event.id, dispatched);
        }
      },
    };
  }

  private committed(change: StateChange, begun: number, at: number): void {
    this.commits += 1;
    for (const { event } of change.outbox ?? []) {
      this.born.set(event.id, at);
      this.parent.set(event.id, change.eventId);
      if (event.type === 'workflow.completed' || event.type === 'workflow.failed') {
        this.finished.set((event.data as { workflowId: string }).workflowId, { at, status: event.type, lastEvent: event.id });
      }
    }
    const born = this.born.get(change.eventId);
    const published = this.published.get(change.eventId);
    const received = this.received.get(change.eventId);
    if (born === undefined || published === undefined || received === undefined) return;
    this.steps[this.phase].push({
      consumer: change.consumer,
      total: at - born,
      wait: published.start - born,
      publish: published.end - published.start,
      deliver: received - published.end,
      handle: begun - received,
      commit: at - begun,
    });
  }

  /** Steps from the workflow's last event back to its task.submitted. */
  criticalPath(workflowId: string): number {
    let steps = 0;
    for (let id = this.finished.get(workflowId)?.lastEvent; id !== undefined; id = this.parent.get(id)) steps += 1;
    return steps;
  }
}

const cpuPercent = (since: NodeJS.CpuUsage, ms: number): number => {
  const used = process.cpuUsage(since);
  return ((used.user + used.system) / 1000 / ms) * 100;
};

/** Every consumer group on the broker that has records left to read, with how many. */
async function groupsBehind(): Promise<string> {
  const admin = new Kafka({ clientId: 'bench-stall', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const behind: string[] = [];
    for (const { groupId } of (await admin.listGroups()).groups) {
      for (const { topic } of await admin.fetchOffsets({ groupId })) {
        const lag = await groupLag(admin, groupId, topic);
        if (lag > 0) behind.push(`${groupId} on ${topic}: ${lag}`);
      }
    }
    return behind.join(', ') || 'none';
  } finally {
    await admin.disconnect();
  }
}

/** A stalled run's state: workflows and subtasks by status, outbox rows not yet published. */
async function whereItStopped(setup: { databaseUrl: string; schema: string }): Promise<string> {
  const sql = createPgClient(setup.databaseUrl, { schema: setup.schema, maxConnections: 1 });
  try {
    const count = async (query: string) => (await sql.query<{ k: string; n: number }>(query)).rows.map((row) => `${row.k} ${row.n}`).join(', ') || 'none';
    const workflows = await count('SELECT status AS k, count(*)::int AS n FROM workflows GROUP BY status ORDER BY status');
    const subtasks = await count(
      "SELECT status || CASE WHEN assigned_agent IS NULL THEN '' ELSE ' (assigned)' END AS k, count(*)::int AS n FROM subtasks GROUP BY 1 ORDER BY 1",
    );
    const outbox = await count('SELECT topic AS k, count(*)::int AS n FROM outbox WHERE published_at IS NULL GROUP BY topic ORDER BY topic');
    return `workflows: ${workflows}; subtasks: ${subtasks}; unpublished outbox rows: ${outbox}; consumer groups behind: ${await groupsBehind()}`;
  } finally {
    await sql.close();
  }
}

/** Group commit on unless DATABASE_GROUP_COMMIT=false, as deployed (shared/env.ts). */
const groupCommit = process.env.DATABASE_GROUP_COMMIT !== 'false';

async function runPipeline(setup: PipelineVolume & { openBus: (name: string) => EventBus; databaseUrl: string; schema: string }) {
  const tracer = new Tracer();
  const config = defaultConfig({
    ORCHESTRATION_DEMO_AGENT_DELAY_MS: 0,
    ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: setup.agentsPerSpecialty,
    ORCHESTRATION_DEMO_LOW_QUALITY_RATE: 0,
    ORCHESTRATION_RETRY_DELAY_INITIAL: 0.05,
    ORCHESTRATION_RETRY_DELAY_MAX: 0.5,
    ORCHESTRATION_PLAN_APPROVAL: 'OFF',
    // Demo specialists take this many tasks at once: slots for every concurrent workflow twice over.
    // With fewer, a run may fall into the capacity-bound regime (subtasks wait for slots, wake-ups,
    // the waiting-work query) and the settings compared differ by chance, not by their cost.
    // BENCH_TASKS_PER_AGENT sets it: 1 forces that regime; at 3, the deployed default, some runs fell into it.
    ORCHESTRATION_MAX_TASKS_PER_AGENT: Number(
      process.env.BENCH_TASKS_PER_AGENT ?? Math.max(3, Math.ceil((2 * setup.concurrentWorkflows) / setup.agentsPerSpecialty)),
    ),
  });
  const leases = createMemoryLeaseStore(systemClock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  const stores: WorkflowStore[] = [];
  const openStore = () => {
    const store = createSqlWorkflowStore(tracer.sql(createPgClient(setup.databaseUrl, { schema: setup.schema, maxConnections: 6, groupCommit: groupCommit })));
    stores.push(store);
    return tracer.store(store);
  };
  const runtimes: Runtime[] = [];
  const submitter = openStore();
  await submitter.migrate();
  try {
    // As main-function.ts deploys it: one runtime per function, plus one for the demo agents.
    for (const name of ['agents', 'decompose', 'assign', 'dispatch', 'complete'] as const) {
      runtimes.push(
        await startRuntime({
          config,
          adapters: { bus: tracer.bus(setup.openBus(name)), store: openStore(), leases, directory },
          logger: tracer.logger,
          functions: name === 'agents' ? [] : [name],
          demoAgents: name === 'agents',
          // The recovery loop at its deployed interval; its safety-net re-kicks show up in the skip note.
          recovery: name === 'agents',
        }),
      );
    }
    const submit = async () => {
      const workflowId = `wf_${randomUUID()}`;
      const description = 'Research AI market trends and create presentation';
      const event = makeEvent(
        taskSubmitted,
        { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false },
        { ids: createIds(), clock: systemClock, source: 'amas/bench' },
      );
      await submitter.createWorkflow(
        { id: workflowId, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: event.time },
        toOutbox([event as OrchestrationEvent]),
      );
      // As POST /v1/tasks does: kick the relay of the submitting process.
      runtimes[0]?.relay.kick();
      return workflowId;
    };
    const settled = (ids: string[]) => () => ids.every((id) => tracer.finished.has(id));

    // Warm-up: the first workflow pays for consumer joins and topic creation.
    const warm = await submit();
    await waitUntil(settled([warm]), 90_000, 'the warm-up workflow');

    // (a) Latency: single workflows, one after another.
    tracer.phase = 'latency';
    const perCritical: number[] = [];
    const atLatency = tracer.counts();
    for (let i = 0; i < setup.sequentialWorkflows; i++) {
      const id = await submit();
      await waitUntil(settled([id]), 60_000, `workflow ${id}`);
      perCritical.push((tracer.finished.get(id)!.at - tracer.started.get(id)!) / tracer.criticalPath(id));
    }
    const latencySteps = tracer.steps.latency;
    const sqlPerStep = tracer.since(atLatency).sqlRoundTrips / latencySteps.length;

    // (b) Throughput: a batch of workflows at once.
    tracer.phase = 'load';
    const atLoad = tracer.counts();
    const cpu = process.cpuUsage();
    const machine = await cpuSnapshot();
    const gc = observeGcPauses();
    const started = now();
    profileMark('load-start');
    const ids = await Promise.all(Array.from({ length: setup.concurrentWorkflows }, submit));
    await waitUntil(settled(ids), 150_000, `${ids.length} concurrent workflows`).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; where it stopped: ${await whereItStopped(setup)}`);
    });
    const ms = now() - started;
    profileMark('load-end');
    const gcMs = await gc.stop();
    const grown = tracer.since(atLoad);
    const events = grown.commits;
    const cpuPerEvent = perUnit(cpuBetween(machine, await cpuSnapshot()), events);
    const load = tracer.steps.load;
    // How much of the run each function's (serial) consumer spent between receipt and commit.
    const busy = Object.fromEntries(
      (['decompose', 'assign', 'dispatch', 'complete'] as const).map((fn) => [
        fn,
        (load.filter((s) => s.consumer === fn).reduce((sum, s) => sum + s.handle + s.commit, 0) / ms) * 100,
      ]),
    );
    return {
      latency: {
        byFunction: Object.fromEntries(
          (['decompose', 'assign', 'dispatch', 'complete'] as const).map((fn) => {
            const steps = latencySteps.filter((s) => s.consumer === fn);
            return [fn, { p50: distribution(steps.map((s) => s.total)).p50, handler: mean(steps.map((s) => s.handle)) }];
          }),
        ),
        steps: distribution(latencySteps.map((s) => s.total)),
        breakdown: breakdown(latencySteps),
        count: latencySteps.length,
        perCriticalStep: mean(perCritical),
        sqlPerStep,
      },
      load: {
        steps: distribution(load.map((s) => s.total)),
        breakdown: breakdown(load),
        workflowsPerSecond: ids.length / (ms / 1000),
        eventsPerSecond: events / (ms / 1000),
        recordsPerSecond: grown.records / (ms / 1000),
        eventsPerWorkflow: events / ids.length,
        sqlPerEvent: grown.sqlRoundTrips / events,
        publishesPerEvent: grown.publishCalls / events,
        recordsPerBatch: grown.batchCalls > 0 ? grown.batchRecords / grown.batchCalls : 1,
        cpuPercent: cpuPercent(cpu, ms),
        machineCpuMsPerEvent: cpuPerEvent.totalMs,
        cpuSplitMsPerEvent: cpuPerEvent.split,
        gcMsPerEvent: gcMs / events,
        cores: availableParallelism(),
        busy,
        skips: [...tracer.skips].sort((a, b) => b[1] - a[1]).map(([why, n]) => `${n}x ${why}`),
        skipped: [...tracer.skips.values()].reduce((sum, n) => sum + n, 0),
        statementsPerEvent: [...tracer.statements]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([opening, n]) => `${(n / events).toFixed(3)} ${opening}`),
        completed: ids.filter((id) => tracer.finished.get(id)?.status === 'workflow.completed').length,
        failed: ids.filter((id) => tracer.finished.get(id)?.status === 'workflow.failed').length,
      },
    };
  } finally {
    for (const runtime of runtimes.reverse()) await runtime.stop().catch(() => undefined);
    await Promise.allSettled(stores.map((s) => s.close()));
  }
}

/**
 * BENCH_PROFILE_MARKS=1: prints the monotonic clock in µs (the clock of a --cpu-prof profile's
 * timestamps) at the load phase's start and end, to read a profile of that window alone.
 */
const profileMark = (name: string): void => {
  if (process.env.BENCH_PROFILE_MARKS) console.error(`MARK ${name} ${process.hrtime.bigint() / 1000n}`);
};

/** Sums V8's garbage collection pauses in this process from now until `stop()`. */
function observeGcPauses(): { stop(): Promise<number> } {
  let total = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) total += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      // Entries are delivered after the fact: let the last ones arrive before leaving.
      await new Promise((resolve) => setImmediate(resolve));
      observer.disconnect();
      return total;
    },
  };
}

const breakdown = (steps: readonly Step[]) => ({
  'outbox wait (commit -> publish)': mean(steps.map((s) => s.wait)),
  'publish (kafkajs send, acks=all)': mean(steps.map((s) => s.publish)),
  'Kafka delivery (sent -> consumer receipt)': mean(steps.map((s) => s.deliver)),
  'handler (receipt -> commit begins)': mean(steps.map((s) => s.handle)),
  'commit transaction': mean(steps.map((s) => s.commit)),
});

if (isEntryPoint(import.meta.url)) runAsScript(runKafkaBench);
