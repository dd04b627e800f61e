import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations, runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore, WAITING_WORK_SQL } from '../../shared/adapters/sql/workflow-store.sql.js';
import { workflowStoreContract } from '../contract/workflow-store.contract.js';
import { seedTables, subtaskChange } from '../../bench/sql-scale.js';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** Each store lives in its own schema, dropped afterwards, so runs never see each other's rows. */
async function freshSchema(): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `amas_test_${randomUUID().replaceAll('-', '')}`;
  const admin = createPgClient(url, { maxConnections: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

workflowStoreContract('sql over PostgreSQL', async () => {
  const { schema, drop } = await freshSchema();
  // Group commit on: lone commits and reads still take the single path, concurrent ones the grouped one.
  const store = createSqlWorkflowStore(createPgClient(url, { schema, groupCommit: true }));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await drop();
    },
  };
});

describe('SQL migrations on PostgreSQL', () => {
  let clients: SqlClient[] = [];
  let drop: () => Promise<void>;
  let schema: string;

  beforeAll(async () => {
    ({ schema, drop } = await freshSchema());
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await drop();
  });

  it('several processes migrating at once apply each version exactly once', async () => {
    clients = Array.from({ length: 4 }, () => createPgClient(url, { schema }));
    const applied = await Promise.all(clients.map((c) => runMigrations(c)));
    expect(applied.flat().sort((a, b) => a - b)).toEqual(migrations.map((m) => m.version));
    const { rows } = await clients[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(await runMigrations(clients[1]!)).toEqual([]);
  });
});

describe('group commit on PostgreSQL', () => {
  it('concurrent reads and commits share statements and transactions, and each keeps its own outcome', async () => {
    const { schema, drop } = await freshSchema();
    const inner = createPgClient(url, { schema, maxConnections: 4, groupCommit: true });
    const statements: string[] = [];
    const counting: SqlClient = {
      groupCommit: inner.groupCommit,
      query: (sql, params, options) => (statements.push(sql), inner.query(sql, params, options)),
      transaction: (fn) => inner.transaction(fn),
      close: () => inner.close(),
    };
    const store = createSqlWorkflowStore(counting);
    try {
      await store.migrate();
      const n = 200;
      await store.createWorkflow(
        { id: 'wf', description: 'group', priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: new Date().toISOString() },
        [],
      );
      await store.commit({ consumer: 'seed', eventId: 'run', workflowUpdates: [{ id: 'wf', expectedVersion: 1, patch: { status: 'running' } }] });
      statements.length = 0;
      const commits = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.commitClaimed(
            {
              consumer: 'c',
              eventId: `e${i}`,
              outbox: [
                { topic: 't', key: 'wf', event: { specversion: '1.0', id: `o${i}`, source: 's', type: 't', time: new Date().toISOString(), data: { i } } },
              ],
            },
            1_000,
          ),
        ),
      );
      const commitStatements = statements.length;
      statements.length = 0;
      const reads = await Promise.all(Array.from({ length: n }, (_, i) => store.readForEvent('c', `e${i < n / 2 ? i : i + n}`, 'wf', { subtasks: 'none' })));
      // Everything was asked for in one turn: at most ceil(n / 64) groups each.
      expect(commitStatements).toBeLessThanOrEqual(Math.ceil(n / 64));
      expect(statements.length).toBeLessThanOrEqual(Math.ceil(n / 64));
      expect(commits.every((c) => c.status === 'applied')).toBe(true);
      // Each commit got the seq of its own row.
      const pending = await store.pendingOutbox(1_000);
      const seqOf = new Map(pending.map((r) => [r.event.id, r.seq]));
      expect(commits.map((c) => (c.status === 'applied' ? c.outbox[0]?.seq : -1))).toEqual(Array.from({ length: n }, (_, i) => seqOf.get(`o${i}`)));
      expect(reads.map((r) => r.processed)).toEqual(Array.from({ length: n }, (_, i) => i < n / 2));
      expect(reads.every((r) => r.workflow?.status === 'running')).toBe(true);
    } finally {
      await store.close();
      await drop();
    }
  });
});

describe('PostgreSQL connections', () => {
  it('keep the options a DATABASE_URL gives (search_path), plan prepared statements once and never JIT-compile', async () => {
    const { schema, drop } = await freshSchema();
    // As the chaos suite and a deployment may pass the schema: inside the URL.
    const client = createPgClient(`${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, { maxConnections: 2 });
    try {
      const settings = await Promise.all(
        [0, 1].map(() =>
          client.query<{ search_path: string; plan_cache_mode: string; jit: string }>(
            "SELECT current_setting('search_path') AS search_path, current_setting('plan_cache_mode') AS plan_cache_mode, current_setting('jit') AS jit",
          ),
        ),
      );
      for (const { rows } of settings) expect(rows[0]).toEqual({ search_path: schema, plan_cache_mode: 'force_generic_plan', jit: 'off' });
    } finally {
      await client.close();
      await drop();
    }
  });
});

describe('PostgreSQL plans', () => {
  /** A fresh schema at the latest migration, `rows` seeded workflows (bench/sql-scale.ts), one connection. */
  const withSeededTables = async (rows: number, use: (client: SqlClient, schema: string) => Promise<void>): Promise<void> => {
    const { schema, drop } = await freshSchema();
    const client = createPgClient(url, { schema, maxConnections: 1 });
    try {
      await runMigrations(client);
      await seedTables(client, rows);
      await use(client, schema);
    } finally {
      await client.close();
      await drop();
    }
  };

  it('a group commit and an event read find their rows by index, however many rows the tables hold', async () => {
    // A day's work: 3,000 workflows with a subtask each, 3,000 events already handled.
    await withSeededTables(3000, async (client, schema) => {
      const { result, read, scanned } = await client.transaction(async (tx) => {
        const { rows } = await tx.query<{ result: { ok: number[]; conflicts: Record<string, string>; seqs: number[] } }>(
          'SELECT amas_commit_set($1::text::jsonb) AS result',
          [
            JSON.stringify([
              subtaskChange(10, 'new-10'),
              subtaskChange(20, 'e20'),
              { ...subtaskChange(30, 'new-30'), subtaskUpdates: [{ ...subtaskChange(30, '').subtaskUpdates[0], expectedVersion: 7 }] },
              subtaskChange(40, 'new-40'),
            ]),
          ],
        );
        const read = await createSqlWorkflowStore(tx).readForEvent('assign', 'e50', 'w50', { subtasks: 'all' });
        const stats = await tx.query<{ relname: string; seq_tup_read: string }>(
          `SELECT relname, seq_tup_read FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname IN ('workflows', 'subtasks', 'processed_events')`,
          [schema],
        );
        return { result: rows[0]!.result, read, scanned: Object.fromEntries(stats.rows.map((r) => [r.relname, Number(r.seq_tup_read)])) };
      });
      expect(result.ok).toEqual([1, 4]); // 2 is a duplicate, 3 a conflict
      expect(result.conflicts).toEqual({ '3': 'subtasks w30.s1 is no longer at version 7' });
      expect(read.processed).toBe(true);
      expect(read.subtasks?.map((s) => s.id)).toEqual(['w50.s1']);
      // The first amas_commit_set hash-joined the batch to sequential scans of whole tables (all 3,000 rows).
      expect(scanned).toEqual({ workflows: 0, subtasks: 0, processed_events: 0 });
      const { rows } = await client.query<{ id: string; status: string }>(
        `SELECT id, status FROM subtasks WHERE id IN ('w10.s1', 'w30.s1', 'w40.s1') ORDER BY id`,
      );
      expect(rows).toEqual([
        { id: 'w10.s1', status: 'in_progress' },
        { id: 'w30.s1', status: 'ready' },
        { id: 'w40.s1', status: 'in_progress' },
      ]);
    });
  });

  it('the waiting-work query reads the held and recently finished rows only when more than one tenant waits', async () => {
    // Every slot taken: 300 analyst subtasks, 100 of them running, 200 waiting, all of one tenant.
    await withSeededTables(300, async (client) => {
      await client.query(
        `UPDATE subtasks SET status = 'in_progress', assigned_agent = 'ag-1' WHERE workflow_id IN (SELECT 'w' || i FROM generate_series(1, 100) i)`,
      );
      const now = Date.now();
      const params = [['data_analyst'], 5, 3_600, [], [], now, null];
      /** Rows the share CTE's scans of subtasks returned (0 when they never ran), and the first waiting ids. */
      const waitingRead = async () => {
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${WAITING_WORK_SQL}`, params);
        const share = findPlan(rows[0]!['QUERY PLAN'][0].Plan, (node) => node['Subplan Name'] === 'CTE share');
        const read = share ? planNodes(share).filter((node) => node['Relation Name'] === 'subtasks') : [];
        const first = await createSqlWorkflowStore(client).findWaitingSubtasks(['data_analyst'], 3, { now, agingSeconds: 3_600, tenantWeights: {} });
        return { shareRows: read.reduce((sum, node) => sum + (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 0), 0), first: first.map((s) => s.id) };
      };
      expect(await waitingRead()).toEqual({ shareRows: 0, first: ['w101.s1', 'w102.s1', 'w103.s1'] });
      // A second tenant waits: the shares decide within a rank, so they are counted (the 100 running rows).
      await client.query(`UPDATE workflows SET tenant = 'b' WHERE id = 'w300'`);
      expect(await waitingRead()).toEqual({ shareRows: 100, first: ['w300.s1', 'w101.s1', 'w102.s1'] });
    });
  });
});

interface PlanNode {
  'Subplan Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}
const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];
const findPlan = (node: PlanNode, match: (node: PlanNode) => boolean): PlanNode | undefined => planNodes(node).find(match);
