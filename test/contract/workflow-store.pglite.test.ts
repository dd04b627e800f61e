import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { pgliteSchemas } from '../unit/helpers/pglite-schemas.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { workflowStoreContract } from './workflow-store.contract.js';

const schemaClient = pgliteSchemas('contract');

workflowStoreContract('sql over in-memory PGlite', async () => {
  const client = await schemaClient();
  const store = createSqlWorkflowStore(client);
  return { store, cleanup: () => store.close() };
});

describe('PGlite client', () => {
  it('rolls a failed transaction back and keeps a data directory across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'amas-pglite-'));
    try {
      const first = createSqlWorkflowStore(await createPgliteClient(dir));
      await first.migrate();
      await first.createWorkflow(
        { id: 'wf-1', description: 'd', priority: 'LOW', metadata: {}, idempotencyKey: null, createdAt: new Date(0).toISOString() },
        [],
      );
      await first.close();

      const client = await createPgliteClient(dir);
      const store = createSqlWorkflowStore(client);
      await store.migrate();
      expect(await store.getWorkflow('wf-1')).toMatchObject({ id: 'wf-1', status: 'pending' });
      const failing = client.transaction(async (tx) => {
        await tx.query("UPDATE workflows SET status = 'failed'");
        throw new Error('abort');
      });
      await expect(failing).rejects.toThrow('abort');
      expect(await store.getWorkflow('wf-1')).toMatchObject({ status: 'pending' });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
