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
 */
export async function createPgliteClient(dataDir?: string): Promise<SqlClient> {
  const db = await PGlite.create(dataDir);
  return {
    query: (sql, params) => run(db, sql, params),
    transaction: (fn) => db.transaction((tx) => fn(transactionClient(tx))),
    close: () => db.close(),
  };
}
