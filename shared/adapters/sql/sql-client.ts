/**
 * The few operations the SQL store needs, so the embedded PGlite and a real PostgreSQL server
 * run the same statements and the same migrations.
 */
export interface SqlResult<R> {
  rows: R[];
  /** Rows returned by a SELECT, or changed by an INSERT / UPDATE / DELETE. */
  rowCount: number;
}

export interface SqlClient {
  query<R>(sql: string, params?: unknown[]): Promise<SqlResult<R>>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
