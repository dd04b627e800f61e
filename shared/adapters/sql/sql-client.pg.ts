import pg from 'pg';
import { ConfigError } from '../../errors.js';
import { createHash } from 'node:crypto';
import type { QueryOptions, SqlClient, SqlResult } from './sql-client.js';

export interface PgClientOptions {
  /** Every connection's search_path, so a test can isolate itself in a fresh schema. */
  schema?: string;
  maxConnections?: number;
  /** Let the store group concurrent reads and commits (SqlClient.groupCommit). Default false. */
  groupCommit?: boolean;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const statementNames = new Map<string, string>();
/** One name per statement text, the same in every pool and connection. */
const statementName = (sql: string): string => {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `amas_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
};

async function run<R>(db: Queryable, sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<R>> {
  const result = await (options?.prepare ? db.query({ name: statementName(sql), text: sql, values: params ?? [] }) : db.query(sql, params));
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
}

function transactionClient(conn: pg.PoolClient): SqlClient {
  const client: SqlClient = {
    query: (sql, params, options) => run(conn, sql, params, options),
    transaction: (fn) => fn(client),
    close: () => Promise.reject(new Error('cannot close a client from inside a transaction')),
  };
  return client;
}

/**
 * The server options of every connection: jit off, the URL's own `options` (pg would let them replace
 * any given beside the URL; they may turn jit back on), then plan_cache_mode, then the schema.
 * Prepared statements (the per-event ones) are key lookups: planned once, not at every execution.
 * JIT compiles any statement whose estimated cost passes jit_above_cost, and estimates over
 * unnest/jsonb_array_elements are guesses: a draft of migration 11's conflict check, a few index
 * lookups, was compiled at every call (~40 ms of LLVM for under 1 ms of work).
 */
function withOptions(connectionString: string, schema: string | undefined): { connectionString: string; options: string } {
  let url: URL | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    url = undefined; // a key=value connection string: its own options stay with it
  }
  const own = url?.searchParams.get('options') ?? undefined;
  url?.searchParams.delete('options');
  return {
    connectionString: url ? url.toString() : connectionString,
    options: ['-c jit=off', own, '-c plan_cache_mode=force_generic_plan', schema ? `-c search_path=${schema}` : undefined].filter(Boolean).join(' '),
  };
}

/** PostgreSQL through a pool; a transaction holds one pooled connection from BEGIN to COMMIT. */
export function createPgClient(connectionString: string, options: PgClientOptions = {}): SqlClient {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new ConfigError(`invalid schema name ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({ ...withOptions(connectionString, schema), max: options.maxConnections ?? 10 });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  return {
    groupCommit: options.groupCommit === true,
    query: (sql, params, options) => run(pool, sql, params, options),
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
