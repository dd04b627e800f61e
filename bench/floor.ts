// The floor under issue 16's CPU target: what the parts the design cannot drop cost on this machine,
// with no orchestrator code at all. Chains of events hop through four stages (four topics, four
// consumer groups, like the four functions); each hop is, in turn:
//   hop     raw kafkajs: consume, parse, produce the next hop (acks=all), one produce per record;
//   commit  the same plus the transactional outbox a durable, exactly-once step needs: one call that
//           inserts the processed mark, checks and bumps the row version and writes the outbox row
//           (one round trip, one transaction), then the outbox mark after the publish, per record;
//   batch   the same work per consumed batch: one commit call, one produce and one mark per batch.
// In every mode the records of a fetched batch are worked on at once (the functions work on up to
// KAFKA_KEYS_CONCURRENCY keys at once per partition); what differs is round trips per record.
// Whole-machine busy CPU (/proc/stat: node, broker and PostgreSQL) per hop is the figure to hold
// against the orchestrator's "CPU per function event" in kafka-pipeline.ts.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload } from 'kafkajs';
import pg from 'pg';
import { testConsumerTimings } from '../shared/adapters/kafka/event-bus.kafka.js';
import { cpuBetween, cpuSnapshot, ownerLabels, perUnit, type CpuSplit } from './cpu.js';
import { createReport, isEntryPoint, printReport, runAsScript, waitUntil, type BenchOptions, type Report } from './lib.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const stages = 4;
const partitions = 6;

type Mode = 'hop' | 'commit' | 'batch';
interface Hop {
  id: string;
  chain: number;
  hop: number;
  payload: string;
}

export async function runFloorBench(options: BenchOptions): Promise<Report> {
  const run = randomUUID().slice(0, 8);
  const schema = `amas_bench_floor_${run}`;
  const volume = options.quick ? { chains: 20, hops: 8 } : { chains: Number(process.env.BENCH_WORKFLOWS ?? 500), hops: 14 };
  const report = createReport(`Floor benchmark: raw Kafka hops and durable commits, no orchestrator${options.quick ? ' (--quick)' : ''}`);
  const kafka = new Kafka({ clientId: `bench-floor-${run}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 16 });
  await createSchema(pool, schema);
  const topics: string[] = [];
  try {
    const results: Record<Mode, { cpuMsPerHop: number; hopsPerSecond: number; split: CpuSplit }> = {} as never;
    for (const mode of ['hop', 'commit', 'batch'] as const) {
      const prefix = `bench-floor-${run}.${mode}.`;
      const modeTopics = Array.from({ length: stages }, (_, i) => `${prefix}s${i}`);
      topics.push(...modeTopics);
      results[mode] = await runChains(kafka, admin, pool, schema, mode, modeTopics, volume.chains, volume.hops);
    }
    const labels: Record<Mode, string> = {
      hop: 'raw Kafka hop (consume, produce acks=all)',
      commit: 'hop + durable commit (one txn call + outbox mark)',
      batch: 'hop + durable commit, per consumed batch',
    };
    for (const mode of ['hop', 'commit', 'batch'] as const) {
      report.figure(`floor.${mode}.cpu`, `${labels[mode]}: machine CPU per hop`, results[mode].cpuMsPerHop, 'ms');
      report.figure(`floor.${mode}.rate`, `${labels[mode]}: hops/s`, results[mode].hopsPerSecond, 'hops/s');
      for (const [owner, ms] of Object.entries(results[mode].split) as [keyof CpuSplit, number][])
        report.figure(`floor.${mode}.cpu.${owner}`, `  of it: ${ownerLabels[owner]}`, ms, 'ms');
    }
    report.ratio('floor.commit/hop', 'CPU per hop: durable commit / raw hop', results.commit.cpuMsPerHop, results.hop.cpuMsPerHop);
    report.ratio('floor.batch/hop', 'CPU per hop: batched commit / raw hop', results.batch.cpuMsPerHop, results.hop.cpuMsPerHop);
    report.target(
      'a record-at-a-time durable step can meet 0.8 ms machine CPU per event',
      results.commit.cpuMsPerHop <= 0.8,
      `its floor is ${results.commit.cpuMsPerHop.toFixed(2)} ms before any orchestration logic`,
    );
    report.note(`${volume.chains} chains of ${volume.hops} hops in flight at once, ${stages} stages, ${partitions} partitions a topic`);
  } finally {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
  printReport(report, options.print);
  return report;
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`
    CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.processed (consumer text NOT NULL, event_id text NOT NULL, PRIMARY KEY (consumer, event_id));
    CREATE TABLE ${schema}.rows (id text PRIMARY KEY, version int NOT NULL);
    CREATE TABLE ${schema}.outbox (seq bigserial PRIMARY KEY, topic text NOT NULL, key text NOT NULL, payload jsonb NOT NULL, published boolean NOT NULL DEFAULT false);
    -- One call, one transaction: the dedupe mark, the version-checked update and the outbox row of each hop given.
    CREATE FUNCTION ${schema}.commit_hops(hops jsonb) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
    DECLARE h jsonb; seq bigint;
    BEGIN
      FOR h IN SELECT * FROM jsonb_array_elements(hops) LOOP
        INSERT INTO ${schema}.processed VALUES (h->>'consumer', h->>'eventId');
        UPDATE ${schema}.rows SET version = version + 1 WHERE id = h->>'row' AND version = (h->>'version')::int;
        IF NOT FOUND THEN RAISE EXCEPTION 'version conflict on %', h->>'row'; END IF;
        INSERT INTO ${schema}.outbox (topic, key, payload) VALUES (h->>'topic', h->>'row', h->'next') RETURNING outbox.seq INTO seq;
        RETURN NEXT seq;
      END LOOP;
    END $$;
  `);
}

async function runChains(kafka: Kafka, admin: Admin, pool: pg.Pool, schema: string, mode: Mode, topics: string[], chains: number, hops: number) {
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
  const rows = Array.from({ length: chains }, (_, chain) => `${mode}-${chain}`);
  await pool.query(`INSERT INTO ${schema}.rows SELECT unnest($1::text[]), 0`, [rows]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumers: Consumer[] = [];
  let done = 0;
  let processed = 0;
  const nextOf = (h: Hop): Hop => ({ ...h, id: randomUUID(), hop: h.hop + 1 });
  const topicOf = (hop: number) => topics[hop % stages]!;
  const send = (next: Hop[]) =>
    producer.send({ topic: topicOf(next[0]!.hop), acks: -1, messages: next.map((h) => ({ key: `${mode}-${h.chain}`, value: JSON.stringify(h) })) });
  const commit = async (stage: number, taken: Hop[]) => {
    const entries = taken.map((h) => ({
      consumer: `s${stage}`,
      eventId: h.id,
      row: `${mode}-${h.chain}`,
      version: h.hop,
      topic: topicOf(h.hop + 1),
      next: nextOf(h),
    }));
    const seqs = (await pool.query<{ commit_hops: string }>(`SELECT ${schema}.commit_hops($1)`, [JSON.stringify(entries)])).rows.map((r) => r.commit_hops);
    return { seqs, next: entries.map((e) => e.next) };
  };
  const mark = (seqs: string[]) => pool.query(`UPDATE ${schema}.outbox SET published = true WHERE seq = ANY($1::bigint[])`, [seqs]);

  const handle = async (stage: number, taken: Hop[]) => {
    processed += taken.length;
    const last = taken.filter((h) => h.hop + 1 >= hops);
    done += last.length;
    const going = taken.filter((h) => h.hop + 1 < hops);
    if (mode === 'hop') {
      if (going.length > 0) await send(going.map(nextOf));
      return;
    }
    const { seqs, next } = await commit(stage, taken);
    const onward = next.filter((h) => h.hop < hops);
    if (onward.length > 0) await send(onward);
    await mark(seqs);
  };

  for (let stage = 0; stage < stages; stage++) {
    const consumer = kafka.consumer({ groupId: `${topics[stage]}.group`, ...testConsumerTimings });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topics[stage]!], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: partitions,
      eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
        const taken = batch.messages.map((m) => JSON.parse(m.value!.toString()) as Hop);
        // Every record of a fetched batch at once (as the functions work on many keys at once), each
        // with its own round trips; or, in batch mode, one commit, one produce and one mark for all.
        if (mode === 'batch') await handle(stage, taken);
        else await Promise.all(taken.map((h) => handle(stage, [h])));
        const lastOffset = batch.messages.at(-1)?.offset;
        if (lastOffset !== undefined) resolveOffset(lastOffset);
        await heartbeat();
      },
    });
  }

  const cpuBefore = await cpuSnapshot();
  const started = performance.now();
  const first: Hop[] = Array.from({ length: chains }, (_, chain) => ({ id: randomUUID(), chain, hop: 0, payload: 'x'.repeat(400) }));
  for (let i = 0; i < first.length; i += 100) await send(first.slice(i, i + 100));
  await waitUntil(() => done >= chains, 300_000, `${mode}: ${chains} chains of ${hops} hops (done ${done}, hops ${processed})`);
  const ms = performance.now() - started;
  const perHop = perUnit(cpuBetween(cpuBefore, await cpuSnapshot()), processed);
  for (const consumer of consumers) await consumer.disconnect();
  await producer.disconnect();
  return { cpuMsPerHop: perHop.totalMs, hopsPerSecond: (processed / ms) * 1000, split: perHop.split };
}

if (isEntryPoint(import.meta.url)) runAsScript(runFloorBench);
