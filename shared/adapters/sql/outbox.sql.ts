import type { OutboxRecord } from '../../ports/workflow-store.port.js';
import type { SqlClient } from './sql-client.js';

type OutboxRow = { seq: string | number; topic: string; key: string; event: OutboxRecord['event'] };
const toRecord = (row: OutboxRow): OutboxRecord => ({ seq: Number(row.seq), topic: row.topic, key: row.key, event: row.event });

export async function pendingOutbox(client: SqlClient, limit: number): Promise<OutboxRecord[]> {
  const { rows } = await client.query<OutboxRow>('SELECT seq, topic, key, event FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1', [limit]);
  return rows.map(toRecord);
}

/** What the relay may send: pending rows whose committer did not claim them, or whose claim lapsed. */
async function unclaimedOutbox(client: SqlClient, limit: number): Promise<OutboxRecord[]> {
  const { rows } = await client.query<OutboxRow>(
    `SELECT seq, topic, key, event FROM outbox
     WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
     ORDER BY seq LIMIT $1`,
    [limit],
  );
  return rows.map(toRecord);
}

/**
 * A mark lost in a server crash only makes the relay send the rows again (consumers absorb a repeat
 * by event id), so its commit does not wait for the WAL flush (synchronous_commit off for this one
 * statement's transaction): the flush that counts, the committed state change, is not delayed by it.
 */
const MARK_PUBLISHED = `WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))
  UPDATE outbox SET published_at = now() FROM relaxed WHERE seq = ANY($1::bigint[]) AND published_at IS NULL`;

export async function markPublished(client: SqlClient, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) return;
  await client.query(MARK_PUBLISHED, [seqs], { prepare: true });
}

/**
 * Publishes the oldest unclaimed pending rows and marks them, inside a transaction holding the relay lock.
 * Another process's relay finds the lock taken and returns 'busy' at once (the holder sends every
 * pending row, its own included, and keeps draining until nothing is left). A crash mid-publish rolls the mark back: the
 * rows go out again, and consumers absorb the repeat by event id.
 */
export async function drainOutbox(client: SqlClient, limit: number, publish: (rows: OutboxRecord[]) => Promise<void>): Promise<number | 'busy'> {
  // Most polls find nothing to send (committers publish their own rows): one cheap read, not a
  // transaction and a lock, tells so.
  const { rows: pending } = await client.query<{ pending: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < clock_timestamp())) AS pending`,
    [],
    { prepare: true },
  );
  if (!pending[0]?.pending) return 0;
  return client.transaction(async (tx) => {
    // One relay per schema at a time, so events leave in commit order and are not sent twice.
    const { rows: lock } = await tx.query<{ locked: boolean }>(
      "SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.amas-outbox-relay')) AS locked",
    );
    if (!lock[0]?.locked) return 'busy';
    const rows = await unclaimedOutbox(tx, limit);
    if (rows.length === 0) return 0;
    await publish(rows);
    await markPublished(
      tx,
      rows.map((row) => row.seq),
    );
    return rows.length;
  });
}
