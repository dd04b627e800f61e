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
import { WAITING_WORK_SQL } from '../shared/adapters/sql/workflow-store.sql.js';
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

/** findWaitingSubtasks' statement before 7 Dec 2026 (shares always counted, every waiting row read whole), for the comparison. */
const PREVIOUS_WAITING_SQL = `WITH used AS (
    SELECT s.workflow_id FROM subtasks s
    WHERE s.assigned_agent IS NOT NULL AND s.status IN ('ready', 'in_progress') AND s.specialty = ANY($1::text[])
    UNION ALL
    SELECT s.workflow_id FROM subtasks s
    WHERE s.assigned_agent IS NOT NULL AND s.status IN ('completed', 'failed', 'cancelled') AND s.specialty = ANY($1::text[])
      AND s.updated_at > to_timestamp($6::float8 / 1000 - $3::float8)
  ), share AS MATERIALIZED (
    SELECT w.tenant, count(*)::float8 AS slots FROM used u JOIN workflows w ON w.id = u.workflow_id GROUP BY w.tenant
  )
  SELECT s.* FROM subtasks s JOIN workflows w ON w.id = s.workflow_id
  LEFT JOIN share h ON h.tenant = w.tenant
  LEFT JOIN unnest($4::text[], $5::float8[]) AS tw(tenant, weight) ON tw.tenant = w.tenant
  WHERE s.status = 'ready' AND s.assigned_agent IS NULL AND w.status = 'running' AND s.specialty = ANY($1::text[])
    AND ($7::text IS NULL OR w.tenant = $7::text)
  ORDER BY
    least(5, CASE w.priority WHEN 'CRITICAL' THEN 5 WHEN 'URGENT' THEN 4 WHEN 'HIGH' THEN 3 WHEN 'NORMAL' THEN 2 ELSE 1 END
      + floor(greatest(0, $6::float8 / 1000 - extract(epoch FROM s.updated_at)::float8) / $3::float8)) DESC,
    s.attempts > 0 DESC,
    coalesce(h.slots, 0) / coalesce(tw.weight, 1),
    s.updated_at, s.seq
  LIMIT $2`;

/**
 * The waiting-work statement (findWaitingSubtasks, 5 rows, prepared) with every slot taken, one
 * tenant: of the `rows` analyst subtasks a fifth running, two fifths finished within the aging
 * period, the rest waiting. The previous and the current statement alternate, `calls` each.
 */
async function waitingMsPerCall(rows: number, calls: number): Promise<{ previous: number; current: number }> {
  const { client, drop } = await seeded('current', rows);
  try {
    const fifth = Math.floor(rows / 5);
    const set = (status: string, from: number) =>
      client.query(
        `UPDATE subtasks SET status = $1, assigned_agent = 'agent-1', updated_at = now() WHERE workflow_id IN (SELECT 'w' || i FROM generate_series($2::integer, $3::integer) i)`,
        [status, from, from + fifth - 1],
      );
    await set('in_progress', 1);
    await set('completed', fifth + 1);
    await set('completed', 2 * fifth + 1);
    await client.query('ANALYZE subtasks');
    const params = [['data_analyst'], 5, 3_600, [], [], Date.now(), null];
    const spent = { previous: 0, current: 0 };
    const run = async (which: keyof typeof spent, sql: string, n: number): Promise<string> => {
      const started = performance.now();
      let ids = '';
      for (let call = 0; call < n; call += 1) ids = (await client.query<{ id: string }>(sql, params, { prepare: true })).rows.map((r) => r.id).join();
      spent[which] += performance.now() - started;
      return ids;
    };
    const rounds = 4;
    for (let round = 0; round <= rounds; round += 1) {
      const n = round === 0 ? 5 : calls / rounds; // round 0 warms both up
      const [previous, current] = [await run('previous', PREVIOUS_WAITING_SQL, n), await run('current', WAITING_WORK_SQL, n)];
      if (previous !== current) throw new Error(`the statements disagree: ${previous} against ${current}`);
      if (round === 0) spent.previous = spent.current = 0;
    }
    return { previous: spent.previous / calls, current: spent.current / calls };
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
  for (const rows of options.quick ? [1_000] : [1_000, 10_000]) {
    const label = rows.toLocaleString('en-US');
    const { previous, current } = await waitingMsPerCall(rows, calls);
    report.figure(`waiting.${rows}.previous`, `waiting work, ${label} analyst subtasks (2/5 waiting): previous, per call`, previous, 'ms');
    report.figure(`waiting.${rows}.current`, `waiting work, ${label} analyst subtasks: current, per call`, current, 'ms');
    report.ratio(`waiting.${rows}.previous/current`, `waiting work, ${label}: previous / current`, previous, current);
  }
  printReport(report, options.print);
  return report;
}

if (isEntryPoint(import.meta.url)) runAsScript(runSqlScaleBench);
