import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteClient, writePgliteTemplate } from '../../shared/adapters/sql/sql-client.pglite.js';
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

  it('starts a new database, in memory or in a new data directory, from a template, each copy its own; an existing directory is opened as it is; no template file, initdb', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'amas-pglite-template-'));
    const newWorkflow = (id: string) => ({
      id,
      description: 'd',
      priority: 'LOW' as const,
      metadata: {},
      idempotencyKey: null,
      createdAt: new Date(0).toISOString(),
    });
    try {
      // A cluster with a marker table: a database started from it has the table, so it was loaded, not made anew.
      const marked = await PGlite.create();
      await marked.exec('CREATE TABLE template_marker (n int); INSERT INTO template_marker VALUES (7)');
      const markedFile = join(dir, 'marked.tar.gz');
      await writeFile(markedFile, Buffer.from(await (await marked.dumpDataDir('gzip')).arrayBuffer()));
      await marked.close();
      const fromMarked = await createPgliteClient(undefined, markedFile);
      expect((await fromMarked.query<{ n: number }>('SELECT n FROM template_marker')).rows).toEqual([{ n: 7 }]);
      await fromMarked.close();
      // A new data directory starts from it too and keeps it; an existing one is opened as it is.
      const onDisk = await createPgliteClient(join(dir, 'data'), markedFile);
      await onDisk.query('UPDATE template_marker SET n = 8');
      await onDisk.close();
      const reopened = await createPgliteClient(join(dir, 'data'), markedFile);
      expect((await reopened.query<{ n: number }>('SELECT n FROM template_marker')).rows).toEqual([{ n: 8 }]);
      await reopened.close();
      const missing = await createPgliteClient(undefined, join(dir, 'no-such.tar.gz'));
      await expect(missing.query('SELECT n FROM template_marker')).rejects.toThrow(/template_marker/);
      await missing.close();

      // writePgliteTemplate's empty cluster: two databases started from it migrate and keep their own rows.
      const file = join(dir, 'empty.tar.gz');
      await writePgliteTemplate(file);
      const [a, b] = await Promise.all([createPgliteClient(undefined, file), createPgliteClient(undefined, file)]);
      const [storeA, storeB] = [createSqlWorkflowStore(a), createSqlWorkflowStore(b)];
      await storeA.migrate();
      await storeB.migrate();
      await storeA.createWorkflow(newWorkflow('wf-a'), []);
      expect(await storeA.getWorkflow('wf-a')).toMatchObject({ status: 'pending' });
      expect(await storeB.getWorkflow('wf-a')).toBeNull();
      await Promise.all([storeA.close(), storeB.close()]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
