// What one group commit (amas_commit_set, 16 changes) costs as the tables grow: the first version of
// the function (migrations 1-10) against the current one, on PostgreSQL, one connection, one call at a
// time. Each size gets two fresh schemas holding the same N workflows, N subtasks and N processed
// marks; each call updates 16 distinct subtasks (version checked, workflow status required, one outbox
// row each). The figure is wall time per call as the client sees it; the ratio is first / current at
// the same size. A commit that scans whole tables grows with N; one that finds its rows by index does not.
import { randomUUID } from 'node:crypto';
import { migrations, runMigrations } from '../shared/adapters/sql/migrations.js';
import { createPgClient } from '../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../shared/adapters/sql/sql-client.js';
import { createReport, isEntryPoint, printReport, runAsScript, type BenchOptions, type Report } from './lib.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const changesPerCall = 16;

type Version = 'first' | 'current';
const versions: Record<Version, number> = { first: 10, current: Math.max(...migrations.map((m) => m.version)) };

/** `rows` running workflows w1… with one ready subtask w<i>.s1 each, and `rows` events e1… already handled by assign. */
export async function seedTables(client: SqlClient, rows: number): Promise<void> {
  await client.query(
    `INSERT INTO workflows (id, description, priority, status, created_at, updated_at)
    SELECT 'w' || i, 'seeded', 'NORMAL', 'running', now(), now() FROM generate_series(1, $1::integer) i`,
    [rows],
  );
  await client.query(
    `INSERT INTO subtasks (id, workflow_id, title, description, specialty, phase, estimated_minutes, priority, review_required, status, updated_at)
    SELECT 'w' || i || '.s1', 'w' || i, 't', 'd', 'data_analyst', 'analysis', 5, 1, false, 'ready', now() FROM generate_series(1, $1::integer) i`,
    [rows],
  );
  await client.query(`INSERT INTO processed_events (consumer, event_id) SELECT 'assign', 'e' || i FROM generate_series(1, $1::integer) i`, [rows]);
}

async function seeded(version: Version, rows: number): Promise<{ client: SqlClient; drop: () => Promise<void> }> {
  const schema = `amas_bench_scale_${randomUUID().slice(0, 8)}`;
  const admin = createPgClient(databaseUrl, { maxConnections: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const client = createPgClient(databaseUrl, { schema, maxConnections: 1 });
  await runMigrations(
    client,
    migrations.filter((m) => m.version <= versions[version]),
  );
  await seedTables(client, rows);
  for (const table of ['workflows', 'subtasks', 'processed_events']) await client.query(`ANALYZE ${table}`);
  return {
    client,
    drop: async () => {
      await client.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

/** One change as amas_commit_set takes it (commitArgument in workflow-store.sql.ts): subtask w<n>.s1 of workflow w<n>, ready → in_progress. */
export const subtaskChange = (n: number, eventId: string) => ({
  claimMs: 0,
  consumer: 'assign',
  eventId,
  insertSubtasks: [],
  workflowUpdates: [],
  subtaskUpdates: [{ id: `w${n}.s1`, expectedVersion: 1, patch: { status: 'in_progress', assigned_agent: 'agent-1', attempts: 1 } }],
  outbox: [{ topic: 'subtask.dispatched', key: `w${n}`, event: { id: `out-${n}` } }],
  requireWorkflowStatus: { id: `w${n}`, status: 'running' },
  expectVersions: null,
});

/** The argument of call `call`: changes of distinct subtasks, each at version 1. */
const callArgument = (call: number): string =>
  JSON.stringify(
    Array.from({ length: changesPerCall }, (_, i) => {
      const n = call * changesPerCall + i + 1;
      return subtaskChange(n, `call-${n}`);
    }),
  );

async function msPerCall(version: Version, rows: number, calls: number): Promise<number> {
  const { client, drop } = await seeded(version, rows);
  try {
    const started = performance.now();
    for (let call = 0; call < calls; call += 1) {
      const { rows: result } = await client.query<{ result: { ok: number[] } }>('SELECT amas_commit_set($1::text::jsonb) AS result', [callArgument(call)]);
      if (result[0]?.result.ok.length !== changesPerCall) throw new Error(`${version}: call ${call} applied ${JSON.stringify(result[0]?.result)}`);
    }
    return (performance.now() - started) / calls;
  } finally {
    await drop();
  }
}

export async function runSqlScaleBench(options: BenchOptions): Promise<Report> {
  const sizes = options.quick ? [1_000, 4_000] : [1_000, 10_000, 100_000];
  const calls = options.quick ? 20 : 60;
  const report = createReport(`Group commit as the tables grow: amas_commit_set, ${changesPerCall} changes a call${options.quick ? ' (--quick)' : ''}`);
  for (const rows of sizes) {
    const label = rows.toLocaleString('en-US');
    const first = report.figure(`scale.${rows}.first`, `${label} rows: first version, per call`, await msPerCall('first', rows, calls), 'ms');
    const current = report.figure(`scale.${rows}.current`, `${label} rows: current version, per call`, await msPerCall('current', rows, calls), 'ms');
    report.ratio(`scale.${rows}.first/current`, `${label} rows: first / current`, first, current);
  }
  report.note(`${calls} calls per size and version, each on tables holding that many workflows, subtasks and processed marks (ANALYZEd)`);
  printReport(report, options.print);
  return report;
}

if (isEntryPoint(import.meta.url)) runAsScript(runSqlScaleBench);
