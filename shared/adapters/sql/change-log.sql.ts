import type { StateChangeRecord } from '../../api/stream.js';
import type { ChangeLog, DeadLetterRedrives } from '../../ports/change-log.port.js';
import type { SqlClient } from './sql-client.js';

interface ChangeRow {
  txid: string;
  seq: string;
  at: Date | string;
  workflow_id: string;
  subtask_id: string | null;
  status: string;
  previous_status: string | null;
  agent_id: string | null;
  attempt: number | null;
  quality: number | null;
  error: string | null;
}

const iso = (value: Date | string): string => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());

const toRecord = (row: ChangeRow): StateChangeRecord =>
  ({
    cursor: `${row.txid}-${row.seq}`,
    at: iso(row.at),
    workflowId: row.workflow_id,
    kind: row.subtask_id === null ? 'workflow' : 'subtask',
    subtaskId: row.subtask_id,
    status: row.status,
    previousStatus: row.previous_status,
    agentId: row.agent_id,
    attempt: row.attempt,
    quality: row.quality,
    error: row.error,
  }) as StateChangeRecord;

const COLUMNS = 'txid::text AS txid, seq::text AS seq, at, workflow_id, subtask_id, status, previous_status, agent_id, attempt, quality, error';
const RANGE = '(txid, seq) > ($1::text::xid8, $2::bigint) AND (txid, seq) <= ($3::text::xid8, $4::bigint)';

/** The change log over the `state_changes` table that migration 5's triggers fill (PostgreSQL and PGlite alike). */
export function createSqlChangeLog(client: SqlClient): ChangeLog {
  return {
    async horizon() {
      const { rows } = await client.query<{ h: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h');
      return BigInt(rows[0]!.h);
    },
    async read({ after, upTo, workflowId, limit }) {
      const bounds = [after.txid.toString(), after.seq.toString(), upTo.txid.toString(), upTo.seq.toString()];
      const { rows } =
        workflowId === undefined
          ? await client.query<ChangeRow>(`SELECT ${COLUMNS} FROM state_changes WHERE ${RANGE} ORDER BY state_changes.txid, state_changes.seq LIMIT $5`, [
              ...bounds,
              limit,
            ])
          : await client.query<ChangeRow>(
              `SELECT ${COLUMNS} FROM state_changes WHERE workflow_id = $5 AND ${RANGE} ORDER BY state_changes.txid, state_changes.seq LIMIT $6`,
              [...bounds, workflowId, limit],
            );
      return rows.map(toRecord);
    },
    async prune(olderThan) {
      const { rowCount } = await client.query('DELETE FROM state_changes WHERE at < $1', [new Date(olderThan).toISOString()]);
      return rowCount;
    },
  };
}

export function createSqlDeadLetterRedrives(client: SqlClient): DeadLetterRedrives {
  return {
    async mark(id, topic) {
      const { rows } = await client.query<{ at: Date | string }>(
        `INSERT INTO dead_letter_redrives (id, topic) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET redriven_at = now(), redrive_count = dead_letter_redrives.redrive_count + 1
         RETURNING redriven_at AS at`,
        [id, topic],
      );
      return iso(rows[0]!.at);
    },
    async redrivenAt(ids) {
      if (ids.length === 0) return new Map();
      const { rows } = await client.query<{ id: string; at: Date | string }>(
        'SELECT id, redriven_at AS at FROM dead_letter_redrives WHERE id = ANY($1::text[])',
        [[...ids]],
      );
      return new Map(rows.map((r) => [r.id, iso(r.at)]));
    },
  };
}
