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
  const store = createSqlWorkflowStore(createPgClient(url, { schema }));
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
    expect(applied.flat().sort()).toEqual(migrations.map((m) => m.version));
    const { rows } = await clients[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(await runMigrations(clients[1]!)).toEqual([]);
  });
});
