import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateChangeRecord } from '../../shared/api/stream.js';
import { createSqlChangeLog } from '../../shared/adapters/sql/change-log.sql.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { createChangeHub } from '../../shared/http-api/streams/change-hub.js';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const until = async (what: string, check: () => boolean, timeoutMs = 5_000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('state-change feed on PostgreSQL', () => {
  const schema = `amas_test_${randomUUID().replaceAll('-', '')}`;
  let admin: SqlClient;
  let client: SqlClient;

  beforeAll(async () => {
    admin = createPgClient(url, { maxConnections: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    client = createPgClient(url, { schema, maxConnections: 4 });
    const store = createSqlWorkflowStore(client);
    await store.migrate();
    for (const id of ['wf-slow', 'wf-fast']) {
      await store.createWorkflow({ id, description: id, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: new Date().toISOString() }, []);
    }
  });
  afterAll(async () => {
    await client.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  });

  it('never skips a change that a slower transaction commits after a faster one', async () => {
    const hub = createChangeHub(createSqlChangeLog(client), silentLogger, { pollIntervalMs: 20 });
    const seen: StateChangeRecord[] = [];
    const unsubscribe = await hub.subscribe({ onChange: (c) => seen.push(c) });
    // The slow transaction takes its id (and its change row) first, and commits last.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = client.transaction(async (tx) => {
      await tx.query(`UPDATE workflows SET status = 'running' WHERE id = 'wf-slow'`);
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    await client.query(`UPDATE workflows SET status = 'running' WHERE id = 'wf-fast'`);
    // A plain sequence would deliver wf-fast now and move past wf-slow's lower position for good.
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
    release();
    await slow;
    await until('both changes', () => seen.length === 2);
    expect(seen.map((c) => [c.workflowId, c.previousStatus, c.status])).toEqual([
      ['wf-slow', 'pending', 'running'],
      ['wf-fast', 'pending', 'running'],
    ]);
    unsubscribe();
    await hub.stop();
  });

  it('a rolled-back change is never streamed, and an unchanged status records nothing', async () => {
    const log = createSqlChangeLog(client);
    const horizon = await log.horizon();
    await client
      .transaction(async (tx) => {
        await tx.query(`UPDATE workflows SET status = 'failed' WHERE id = 'wf-fast'`);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await client.query(`UPDATE workflows SET failure_reason = 'x', status = status WHERE id = 'wf-fast'`);
    const after = { txid: horizon, seq: 0n };
    const upTo = { txid: await log.horizon(), seq: 0n };
    expect(await log.read({ after, upTo, limit: 10 })).toEqual([]);
  });
});
