import { afterAll, describe, expect, it } from 'vitest';
import { createPgliteClient } from './sql-client.pglite.js';
import { createSqlWorkflowStore } from './workflow-store.sql.js';
import { withUsageColumn } from './usage.sql.js';

const db = createPgliteClient();
afterAll(async () => (await db).close());

describe('migration 8: workflows.usage', () => {
  it('amas_commit and amas_commit_set both write a usage patch and keep the stored usage when a patch has none', async () => {
    const client = await db;
    const store = createSqlWorkflowStore(client);
    await store.migrate();
    for (const id of ['wf-1', 'wf-2'])
      await store.createWorkflow({ id, description: id, priority: 'LOW', metadata: {}, idempotencyKey: null, createdAt: new Date(0).toISOString() }, []);
    const change = (eventId: string, id: string, expectedVersion: number, patch: Record<string, unknown>) => ({
      claimMs: 0,
      consumer: 'test',
      eventId,
      insertSubtasks: [],
      subtaskUpdates: [],
      outbox: [],
      requireWorkflowStatus: null,
      workflowUpdates: [{ id, expectedVersion, patch }],
    });
    const spent = { inputTokens: 10, outputTokens: 2, costUsd: 0.5 };
    await client.query('SELECT amas_commit($1::text::jsonb, 0)', [JSON.stringify(change('e1', 'wf-1', 1, { usage: spent }))]);
    await client.query('SELECT amas_commit_set($1::text::jsonb)', [
      JSON.stringify([change('e2', 'wf-1', 2, { status: 'running' }), change('e3', 'wf-2', 1, { usage: { ...spent, costUsd: 2 } })]),
    ]);
    expect(await store.getWorkflow('wf-1')).toMatchObject({ status: 'running', usage: spent, version: 3 });
    expect(await store.getWorkflow('wf-2')).toMatchObject({ usage: { ...spent, costUsd: 2 }, version: 2 });
  });

  it('refuses a function text it does not recognise instead of writing a wrong migration', () => {
    expect(() => withUsageColumn('CREATE FUNCTION f() RETURNS void AS $$ $$')).toThrow('migration 8 expects one workflow UPDATE');
  });
});
