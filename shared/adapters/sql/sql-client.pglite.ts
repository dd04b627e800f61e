import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlClient, SqlResult } from './sql-client.js';

type Queryable = Pick<PGlite, 'query'> | Transaction;

async function run<R>(db: Queryable, sql: string, params?: unknown[]): Promise<SqlResult<R>> {
  const result = await db.query<R>(sql, params);
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

/** A transaction's view: nested transactions join the open one (PGlite has one connection). */
function transactionClient(tx: Transaction): SqlClient {
  const client: SqlClient = {
    query: (sql, params) => run(tx, sql, params),
    transaction: (fn) => fn(client),
    close: () => Promise.reject(new Error('cannot close a client from inside a transaction')),
  };
  return client;
}

/**
 * Embedded PostgreSQL (in memory without `dataDir`). PGlite queues every query behind an open
 * transaction, so a transaction never interleaves with other work on the same instance.
 *
 * A new cluster (in memory, or a data directory without one yet) starts from `template` (default:
 * the file AMAS_PGLITE_TEMPLATE names, see writePgliteTemplate) when there is one: initdb costs 3–4 s
 * of CPU here, loading an initialised empty cluster about 1 s. The test runs make one and start each
 * of their dozens of databases from it. An existing data directory is opened as it is.
 */
export async function createPgliteClient(dataDir?: string, template: string | undefined = process.env.AMAS_PGLITE_TEMPLATE || undefined): Promise<SqlClient> {
  const fresh = dataDir === undefined || !existsSync(join(dataDir, 'PG_VERSION'));
  const loadDataDir = fresh && template !== undefined ? await readTemplate(template) : undefined;
  const db = await PGlite.create(dataDir, loadDataDir ? { loadDataDir } : {});
  return {
    query: (sql, params) => run(db, sql, params),
    transaction: (fn) => db.transaction((tx) => fn(transactionClient(tx))),
    close: () => db.close(),
  };
}

/** Writes a freshly initialised, empty cluster where createPgliteClient can start from it (atomically: a reader never sees half a file). */
export async function writePgliteTemplate(file: string): Promise<void> {
  const db = await PGlite.create();
  try {
    const dump = await db.dumpDataDir('gzip');
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } finally {
    await db.close();
  }
}

/** The template's tarball, or undefined when the file is not there (then initdb runs as usual). */
async function readTemplate(file: string): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
