import pg from 'pg';
import { ConfigError } from '../../errors.js';
import type { SqlClient, SqlResult } from './sql-client.js';

export interface PgClientOptions {
  /** Every connection's search_path, so a test can isolate itself in a fresh schema. */
  schema?: string;
  maxConnections?: number;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

async function run<R>(db: Queryable, sql: string, params?: unknown[]): Promise<SqlResult<R>> {
  const result = await db.query(sql, params);
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
}

function transactionClient(conn: pg.PoolClient): SqlClient {
  const client: SqlClient = {
    query: (sql, params) => run(conn, sql, params),
    transaction: (fn) => fn(client),
    close: () => Promise.reject(new Error('cannot close a client from inside a transaction')),
  };
  return client;
}

/** PostgreSQL through a pool; a transaction holds one pooled connection from BEGIN to COMMIT. */
export function createPgClient(connectionString: string, options: PgClientOptions = {}): SqlClient {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new ConfigError(`invalid schema name ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  return {
    query: (sql, params) => run(pool, sql, params),
    async transaction(fn) {
      const conn = await pool.connect();
      let broken = false;
      // While checked out, a connection the server kills (restart, admin command) emits 'error' with
      // no pool listener attached: unheard, that event would crash the process. The failed query
      // rejects on its own; the connection is discarded below.
      const onError = () => void (broken = true);
      conn.on('error', onError);
      try {
        await conn.query('BEGIN');
        const result = await fn(transactionClient(conn));
        await conn.query('COMMIT');
        return result;
      } catch (error) {
        // A connection that cannot even roll back is discarded rather than returned to the pool.
        await conn.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        conn.removeListener('error', onError);
        conn.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
