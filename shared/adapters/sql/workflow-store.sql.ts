import { ConcurrencyConflictError } from '../../errors.js';
import type {
  OutboxMessage,
  StateChange,
  WorkflowStore,
} from '../../ports/workflow-store.port.js';
import { runMigrations } from './migrations.js';
import {
  columnPatch,
  json,
  subtaskColumns,
  subtaskRecord,
  toSubtask,
  toWorkflow,
  workflowColumns,
  type SubtaskRow,
  type WorkflowRow,
} from './rows.js';
import type { SqlClient } from './sql-client.js';
import { drainOutbox, markPublished, pendingOutbox } from './outbox.sql.js';

const ACTIVE = ['pending', 'planned', 'awaiting_approval', 'running', 'paused'];
/** amas_commit found a row no longer at the version the handler read (migration 2). */
const VERSION_CONFLICT = 'AMV01';
/** Postgres aborted the transaction over a lock cycle or a serialization failure: a retry will do. */
const TRANSIENT_CONFLICTS = new Set(['40001', '40P01']);

/** One statement for all of a commit's events, in their order (seq follows the array). */
async function insertOutbox(tx: SqlClient, outbox: readonly OutboxMessage[]): Promise<void> {
  if (outbox.length === 0) return;
  await tx.query(
    'INSERT INTO outbox (topic, key, event) SELECT t, k, e::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(t, k, e, n) ORDER BY n',
    [outbox.map((m) => m.topic), outbox.map((m) => m.key), outbox.map((m) => json(m.event))],
  );
}

const byId = <T extends { id: string }>(updates: readonly T[]): T[] =>
  [...updates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** The change as amas_commit takes it: patches keyed by column, each list of patches in lock order. */
const commitArgument = (change: StateChange): string =>
  JSON.stringify({
    consumer: change.consumer,
    eventId: change.eventId,
    insertSubtasks: (change.insertSubtasks ?? []).map(subtaskRecord),
    workflowUpdates: byId(change.workflowUpdates ?? []).map((u) => ({ ...u, patch: columnPatch(workflowColumns, u.patch) })),
    subtaskUpdates: byId(change.subtaskUpdates ?? []).map((u) => ({ ...u, patch: columnPatch(subtaskColumns, u.patch) })),
    outbox: change.outbox ?? [],
    requireWorkflowStatus: change.requireWorkflowStatus ?? null,
  });

// The guard runs first (the CTE is scanned before the select list is computed), in the same statement.
const COMMIT = 'SELECT amas_commit($1::text::jsonb, $2::integer) AS seqs';
const GUARDED_COMMIT = 'WITH guard AS MATERIALIZED (SELECT amas_require_workflow_status($1::text::jsonb)) SELECT amas_commit($1::text::jsonb, $2::integer) AS seqs FROM guard';

/** One round trip (one implicit transaction): the outbox seqs written, or null for a duplicate. */
async function applyChange(client: SqlClient, change: StateChange, claimMs: number): Promise<number[] | null> {
  try {
    const { rows } = await client.query<{ seqs: (string | number)[] | null }>(change.requireWorkflowStatus ? GUARDED_COMMIT : COMMIT, [
      commitArgument(change),
      Math.max(0, Math.round(claimMs)),
    ]);
    const seqs = rows[0]?.seqs;
    return seqs ? seqs.map(Number) : null;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === VERSION_CONFLICT) throw Object.assign(new ConcurrencyConflictError((error as Error).message), { cause: error });
    if (typeof code === 'string' && TRANSIENT_CONFLICTS.has(code)) {
      throw Object.assign(new ConcurrencyConflictError(`commit of ${change.eventId} aborted (${code})`), { cause: error });
    }
    throw error;
  }
}

const SUBTASKS = 'SELECT s.* FROM subtasks s';
/** readForEvent's subtasks column: rows as JSON (row_to_json renders timestamps as ISO 8601). */
const SNAPSHOT_SUBTASKS = {
  none: 'NULL::json',
  one: "(SELECT coalesce(json_agg(s), '[]') FROM subtasks s WHERE s.id = $4)",
  all: "(SELECT coalesce(json_agg(s ORDER BY s.seq), '[]') FROM subtasks s WHERE s.workflow_id = $3)",
} as const;

export function createSqlWorkflowStore(client: SqlClient): WorkflowStore {
  const workflows = async (sql: string, params: unknown[]) =>
    (await client.query<WorkflowRow>(sql, params)).rows.map(toWorkflow);
  const subtasks = async (sql: string, params: unknown[]) =>
    (await client.query<SubtaskRow>(sql, params)).rows.map(toSubtask);

  return {
    async migrate() {
      await runMigrations(client);
    },

    createWorkflow: (input, outbox) =>
      client.transaction(async (tx) => {
        const inserted = await tx.query<WorkflowRow>(
          `INSERT INTO workflows (id, description, priority, metadata, idempotency_key, status, version, created_at, updated_at)
           VALUES ($1, $2, $3, $4::text::jsonb, $5, 'pending', 1, $6::timestamptz, $6::timestamptz)
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING *`,
          [input.id, input.description, input.priority, json(input.metadata) ?? '{}', input.idempotencyKey, input.createdAt],
        );
        const [row] = inserted.rows;
        if (row) {
          await insertOutbox(tx, outbox);
          return { workflow: toWorkflow(row), created: true };
        }
        // The key's owner committed before our insert gave way, so this statement's snapshot sees it.
        const existing = await tx.query<WorkflowRow>('SELECT * FROM workflows WHERE idempotency_key = $1', [
          input.idempotencyKey,
        ]);
        const [found] = existing.rows;
        if (!found) throw new ConcurrencyConflictError(`idempotency key ${input.idempotencyKey} is being created`);
        return { workflow: toWorkflow(found), created: false };
      }),

    async getWorkflow(id) {
      const [workflow] = await workflows('SELECT * FROM workflows WHERE id = $1', [id]);
      return workflow ?? null;
    },

    listWorkflows: ({ status, limit, offset }) =>
      workflows(
        `SELECT * FROM workflows WHERE ($1::text IS NULL OR status = $1::text)
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [status ?? null, limit, offset],
      ),

    async countActiveWorkflows() {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM workflows WHERE status = ANY($1::text[])', [
        ACTIVE,
      ]);
      return rows[0]?.n ?? 0;
    },

    getSubtasks: (workflowId) => subtasks(`${SUBTASKS} WHERE s.workflow_id = $1 ORDER BY s.seq`, [workflowId]),

    async getSubtask(id) {
      const [subtask] = await subtasks(`${SUBTASKS} WHERE s.id = $1`, [id]);
      return subtask ?? null;
    },

    findWaitingSubtasks: (specialties, limit) =>
      subtasks(
        `${SUBTASKS} JOIN workflows w ON w.id = s.workflow_id
         WHERE s.status = 'ready' AND s.assigned_agent IS NULL AND w.status = 'running' AND s.specialty = ANY($1::text[])
         ORDER BY s.attempts DESC, s.updated_at, s.seq LIMIT $2`,
        [[...specialties], limit],
      ),

    findOverdueSubtasks: (now, limit) =>
      subtasks(
        `${SUBTASKS} WHERE s.status = 'in_progress' AND s.deadline < to_timestamp($1::double precision / 1000)
         ORDER BY s.deadline, s.seq LIMIT $2`,
        [now, limit],
      ),

    findSubtasksByAgent: (agentId) =>
      subtasks(`${SUBTASKS} WHERE s.status = 'in_progress' AND s.assigned_agent = $1 ORDER BY s.seq`, [agentId]),

    async readForEvent(consumer, eventId, workflowId, scope) {
      const { rows } = await client.query<{ processed: boolean; workflow: WorkflowRow | null; subtasks: SubtaskRow[] | null }>(
        `SELECT EXISTS (SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2) AS processed,
           (SELECT row_to_json(w) FROM workflows w WHERE w.id = $3) AS workflow,
           ${SNAPSHOT_SUBTASKS[scope.subtasks]} AS subtasks`,
        scope.subtasks === 'one' ? [consumer, eventId, workflowId, scope.subtaskId] : [consumer, eventId, workflowId],
      );
      const row = rows[0];
      return {
        processed: row?.processed === true,
        workflow: row?.workflow ? toWorkflow(row.workflow) : null,
        subtasks: row?.subtasks ? row.subtasks.map(toSubtask) : null,
      };
    },

    async hasProcessed(consumer, eventId) {
      const { rowCount } = await client.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [
        consumer,
        eventId,
      ]);
      return rowCount > 0;
    },

    async commit(change) {
      return (await applyChange(client, change, 0)) === null ? 'duplicate' : 'applied';
    },

    async commitClaimed(change, claimMs) {
      const seqs = await applyChange(client, change, claimMs);
      if (seqs === null) return { status: 'duplicate' };
      const outbox = change.outbox ?? [];
      return { status: 'applied', outbox: outbox.map((message, i) => ({ ...message, seq: seqs[i] as number })) };
    },

    pendingOutbox: (limit) => pendingOutbox(client, limit),
    markPublished: (seqs) => markPublished(client, seqs),
    drainOutbox: (limit, publish) => drainOutbox(client, limit, publish),

    close: () => client.close(),
  };
}
