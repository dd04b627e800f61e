import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations, runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { workflowStoreContract } from '../contract/workflow-store.contract.js';

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
  it('keep the options a DATABASE_URL gives (search_path) and plan prepared statements once', async () => {
    const { schema, drop } = await freshSchema();
    // As the chaos suite and a deployment may pass the schema: inside the URL.
    const client = createPgClient(`${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, { maxConnections: 2 });
    try {
      const settings = await Promise.all(
        [0, 1].map(() =>
          client.query<{ search_path: string; plan_cache_mode: string }>(
            "SELECT current_setting('search_path') AS search_path, current_setting('plan_cache_mode') AS plan_cache_mode",
          ),
        ),
      );
      for (const { rows } of settings) expect(rows[0]).toEqual({ search_path: schema, plan_cache_mode: 'force_generic_plan' });
    } finally {
      await client.close();
      await drop();
    }
  });
});
