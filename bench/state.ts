// State: transitions/s through the SQL WorkflowStore.commit against the same row work in raw `pg`,
// and lease cycles/s through the Redis LeaseStore against raw SET NX PX + DEL; PGlite for reference.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createRedisClient, createRedisLeaseStore } from '../shared/adapters/redis/lease-store.redis.js';
import { createPgClient } from '../shared/adapters/sql/sql-client.pg.js';
import { createPgliteClient } from '../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../shared/adapters/sql/workflow-store.sql.js';
import type { AnyCloudEvent } from '../shared/events/envelope.js';
import type { StateChange, WorkflowStore } from '../shared/ports/index.js';
import { createReport, isEntryPoint, opsPerSecond, printReport, runAsScript, type BenchOptions, type Report } from './lib.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const concurrencies = [1, 8, 64] as const;

export async function runStateBench(options: BenchOptions): Promise<Report> {
  const run = randomUUID().slice(0, 8);
  // Each figure alternates raw and adapter in two halves, so drift on a shared machine hits both alike.
  const ms = options.quick ? 600 : 4_000;
  const report = createReport(`State benchmark${options.quick ? ' (--quick)' : ''}`);

  const schema = `amas_bench_state_${run}`;
  const admin = createPgClient(databaseUrl, { maxConnections: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const client = createPgClient(databaseUrl, { schema, maxConnections: 8, groupCommit: true });
  const store = createSqlWorkflowStore(client);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8, options: `-c search_path=${schema}` });
  try {
    await store.migrate();
    const rows = await seed(store, client, 'pg', Math.max(...concurrencies));
    const commitRaw = rawCommit(pool, rows);
    for (const c of concurrencies) {
      const [raw, adapter] = await alternate(
        ms,
        c,
        (w) => commitRaw(w),
        (w) => commit(store, rows, w),
      );
      report.figure(`pg.raw.c${c}`, `raw pg transaction, ${c} writer(s)`, raw, 'transitions/s');
      report.figure(`pg.store.c${c}`, `WorkflowStore.commit, ${c} writer(s)`, adapter, 'transitions/s');
      report.ratio(`pg.c${c}`, `store / raw pg, ${c} writer(s)`, adapter, raw);
    }
  } finally {
    await store.close();
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  }

  const pglite = createSqlWorkflowStore(await createPgliteClient());
  try {
    await pglite.migrate();
    const rows = await seed(pglite, undefined, 'lite', 1);
    await opsPerSecond(ms / 4, 1, (w) => commit(pglite, rows, w)); // WebAssembly warm-up, not timed
    const rate = await opsPerSecond(ms, 1, (w) => commit(pglite, rows, w));
    report.figure('pglite.store.c1', 'PGlite (embedded) WorkflowStore.commit, 1 writer', rate, 'transitions/s');
    report.ratio('pglite/pg', 'PGlite store / PostgreSQL store, 1 writer', rate, report.figures.find((f) => f.key === 'pg.store.c1')!.value);
  } finally {
    await pglite.close();
  }

  const prefix = `amas-bench:${run}:`;
  const redis = createRedisClient(redisUrl);
  const leases = createRedisLeaseStore(redis, { prefix });
  try {
    const rawCycle = async (w: number) => {
      const key = `${prefix}raw:${w}`;
      if ((await redis.set(key, `holder-${w}`, 'PX', 30_000, 'NX')) !== 'OK') throw new Error(`raw lease ${key} was taken`);
      await redis.del(key);
    };
    const storeCycle = async (w: number) => {
      const lease = await leases.acquire(`subtask:${w}`, `holder-${w}`, 30_000);
      if (!lease) throw new Error(`lease subtask:${w} was taken`);
      if (!(await leases.release(lease.key, lease.token))) throw new Error(`lease subtask:${w} was not released`);
    };
    for (const c of concurrencies) {
      const [raw, adapter] = await alternate(ms, c, rawCycle, storeCycle);
      report.figure(`redis.raw.c${c}`, `raw SET NX PX + DEL, ${c} client loop(s)`, raw, 'cycles/s');
      report.figure(`redis.store.c${c}`, `RedisLeaseStore acquire + release, ${c} loop(s)`, adapter, 'cycles/s');
      report.ratio(`redis.c${c}`, `lease store / raw Redis, ${c} loop(s)`, adapter, raw);
    }
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await leases.close();
    await redis.quit();
  }
  report.note('a transition = one transaction: processed-event mark + versioned subtask UPDATE + one outbox row (the per-event write of every function)');
  report.note(
    'raw pg does the same row work on the same tables through a bare pg.Pool, one statement per round trip (BEGIN, INSERT, UPDATE, INSERT, COMMIT); the store sends one commit as one SELECT amas_commit(...) and commits asked for at once as one SELECT amas_commit_set(...) per group (group commit), hence > 1',
  );
  report.note(
    'a lease cycle = acquire + release; the store runs one Lua script each (lease, fencing counter, expiry index, holder set) where raw Redis does SET NX PX and DEL',
  );
  printReport(report, options.print);
  return report;
}

interface Rows {
  ids: string[];
  versions: number[];
  seq: number;
}

/** One workflow with one subtask per writer; each writer updates only its own row, so nothing conflicts. */
async function seed(store: WorkflowStore, sql: SqlClient | undefined, tag: string, writers: number): Promise<Rows> {
  const rows: Rows = { ids: [], versions: [], seq: 0 };
  const workflowId = `wf_bench_${tag}`;
  await store.createWorkflow(
    { id: workflowId, description: 'benchmark', priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: new Date().toISOString() },
    [],
  );
  for (let w = 0; w < writers; w++) {
    const id = `st_bench_${tag}_${w}`;
    const insert = `INSERT INTO subtasks (id, workflow_id, title, description, specialty, phase, estimated_minutes, priority, review_required, status, updated_at)
       VALUES ($1, $2, 'bench', 'bench', 'data_analyst', 'analysis', 30, 1, false, 'ready', now())`;
    if (sql) await sql.query(insert, [id, workflowId]);
    else await store.commit({ consumer: 'seed', eventId: id, insertSubtasks: [subtask(id, workflowId)] });
    rows.ids.push(id);
    rows.versions.push(1);
  }
  return rows;
}

const subtask = (id: string, workflowId: string): NonNullable<StateChange['insertSubtasks']>[number] => ({
  id,
  workflowId,
  title: 'bench',
  description: 'bench',
  specialty: 'data_analyst',
  phase: 'analysis',
  estimatedMinutes: 30,
  priority: 1,
  dependsOn: [],
  successCriteria: [],
  qualityCheckpoints: [],
  reviewRequired: false,
  status: 'ready',
  assignedAgent: null,
  attempts: 0,
  leaseToken: null,
  deadline: null,
  quality: null,
  output: null,
  lastError: null,
  version: 1,
  updatedAt: new Date().toISOString(),
});

/** The event a dispatch would emit: about the size of a real one. */
const outboxEvent = (id: string, subtaskId: string, n: number): AnyCloudEvent => ({
  specversion: '1.0',
  id,
  source: 'amas/bench',
  type: 'subtask.assigned',
  time: new Date().toISOString(),
  data: { workflowId: 'wf_bench', subtaskId, attempt: n, agentId: `demo-data_analyst-${n % 5}`, leaseToken: n },
});

async function commit(store: WorkflowStore, rows: Rows, w: number): Promise<void> {
  const n = ++rows.seq;
  const id = rows.ids[w]!;
  const eventId = `ev_${randomUUID()}`;
  await store.commit({
    consumer: 'bench',
    eventId,
    subtaskUpdates: [
      { id, expectedVersion: rows.versions[w]!, patch: { status: 'in_progress', assignedAgent: `demo-data_analyst-${n % 5}`, attempts: n, leaseToken: n } },
    ],
    outbox: [{ topic: 'amas.subtasks.assigned', key: 'wf_bench', event: outboxEvent(eventId, id, n) }],
  });
  rows.versions[w]! += 1;
}

function rawCommit(pool: pg.Pool, rows: Rows) {
  return async (w: number): Promise<void> => {
    const n = ++rows.seq;
    const id = rows.ids[w]!;
    const eventId = `ev_${randomUUID()}`;
    const conn = await pool.connect();
    try {
      await conn.query('BEGIN');
      await conn.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', ['bench', eventId]);
      const updated = await conn.query(
        `UPDATE subtasks SET status = $3, assigned_agent = $4, attempts = $5, lease_token = $6, version = version + 1, updated_at = now()
         WHERE id = $1 AND version = $2`,
        [id, rows.versions[w], 'in_progress', `demo-data_analyst-${n % 5}`, n, n],
      );
      if (updated.rowCount !== 1) throw new Error(`raw update of ${id} found no row at version ${rows.versions[w]}`);
      await conn.query('INSERT INTO outbox (topic, key, event) VALUES ($1, $2, $3::text::jsonb)', [
        'amas.subtasks.assigned',
        'wf_bench',
        JSON.stringify(outboxEvent(eventId, id, n)),
      ]);
      await conn.query('COMMIT');
      rows.versions[w]! += 1;
    } catch (error) {
      await conn.query('ROLLBACK');
      throw error;
    } finally {
      conn.release();
    }
  };
}

/** Rates of `raw` and `adapter`, each measured in two halves: raw, adapter, adapter, raw. */
async function alternate(ms: number, concurrency: number, raw: (w: number) => Promise<void>, adapter: (w: number) => Promise<void>): Promise<[number, number]> {
  const half = ms / 2;
  const r1 = await opsPerSecond(half, concurrency, raw);
  const a1 = await opsPerSecond(half, concurrency, adapter);
  const a2 = await opsPerSecond(half, concurrency, adapter);
  const r2 = await opsPerSecond(half, concurrency, raw);
  return [(r1 + r2) / 2, (a1 + a2) / 2];
}

if (isEntryPoint(import.meta.url)) runAsScript(runStateBench);
