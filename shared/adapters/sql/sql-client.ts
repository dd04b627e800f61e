/**
 * The few operations the SQL store needs, so the embedded PGlite and a real PostgreSQL server
 * run the same statements and the same migrations.
 */
export interface SqlResult<R> {
  rows: R[];
  /** Rows returned by a SELECT, or changed by an INSERT / UPDATE / DELETE. */
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Parse and plan the statement once per connection and reuse the plan (a named prepared
   * statement): for the hot statements that run per event. Only for statements whose result columns
   * cannot change with a migration (no `SELECT *`), since a prepared statement keeps its row type.
   */
  prepare?: boolean;
}

export interface SqlClient {
  /**
   * Concurrent reads and commits may share one statement and one transaction (group commit): on a
   * PostgreSQL server when asked for (DATABASE_GROUP_COMMIT), saving round trips and WAL flushes. PGlite is one in-process
   * connection with neither to save, and there each commit stays a step of its own, in the order its
   * handler ran, which replaying an embedded log relies on.
   */
  readonly groupCommit?: boolean;
  query<R>(sql: string, params?: unknown[], options?: QueryOptions): Promise<SqlResult<R>>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
