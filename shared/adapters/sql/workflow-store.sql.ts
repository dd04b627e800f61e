import type { Subtask } from '../../domain/workflow.js';
import { ConcurrencyConflictError } from '../../errors.js';
import type {
  OutboxMessage,
  StateChange,
  VersionedPatch,
  WorkflowStore,
} from '../../ports/workflow-store.port.js';
import { runMigrations } from './migrations.js';
import {
  json,
  setClause,
  subtaskColumns,
  toSubtask,
  toWorkflow,
  workflowColumns,
  type SubtaskRow,
  type WorkflowRow,
} from './rows.js';
import type { SqlClient } from './sql-client.js';
import { drainOutbox, markPublished, pendingOutbox } from './outbox.sql.js';

const ACTIVE = ['pending', 'planned', 'awaiting_approval', 'running', 'paused'];
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

async function insertSubtask(tx: SqlClient, s: Subtask): Promise<void> {
  await tx.query(
    `INSERT INTO subtasks (id, workflow_id, title, description, specialty, phase, estimated_minutes, priority,
       depends_on, success_criteria, quality_checkpoints, review_required, status, assigned_agent, attempts,
       lease_token, deadline, quality, output, last_error, version, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10::text::jsonb, $11::text::jsonb, $12, $13, $14, $15,
       $16, $17::timestamptz, $18, $19::text::jsonb, $20, $21, $22::timestamptz)`,
    [
      s.id, s.workflowId, s.title, s.description, s.specialty, s.phase, s.estimatedMinutes, s.priority,
      json(s.dependsOn), json(s.successCriteria), json(s.qualityCheckpoints), s.reviewRequired, s.status,
      s.assignedAgent, s.attempts, s.leaseToken, s.deadline, s.quality, json(s.output), s.lastError, s.version, s.updatedAt,
    ],
  );
}

async function applyPatches<P extends object>(
  tx: SqlClient,
  table: 'workflows' | 'subtasks',
  columns: Parameters<typeof setClause<P>>[0],
  updates: readonly VersionedPatch<P>[],
): Promise<void> {
  // A fixed lock order keeps two overlapping commits from deadlocking each other.
  const ordered = [...updates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const { id, expectedVersion, patch } of ordered) {
    const set = setClause(columns, patch, 3);
    const { rowCount } = await tx.query(`UPDATE ${table} SET ${set.sql} WHERE id = $1 AND version = $2`, [
      id,
      expectedVersion,
      ...set.params,
    ]);
    if (rowCount === 0) {
      throw new ConcurrencyConflictError(`${table} ${id} is no longer at version ${expectedVersion}`);
    }
  }
}

async function applyChange(tx: SqlClient, change: StateChange): Promise<'applied' | 'duplicate'> {
  const mark = await tx.query(
    'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [change.consumer, change.eventId],
  );
  if (mark.rowCount === 0) return 'duplicate';
  for (const subtask of change.insertSubtasks ?? []) await insertSubtask(tx, subtask);
  await applyPatches(tx, 'workflows', workflowColumns, change.workflowUpdates ?? []);
  await applyPatches(tx, 'subtasks', subtaskColumns, change.subtaskUpdates ?? []);
  await insertOutbox(tx, change.outbox ?? []);
  return 'applied';
}

const SUBTASKS = 'SELECT s.* FROM subtasks s';

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

    async hasProcessed(consumer, eventId) {
      const { rowCount } = await client.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [
        consumer,
        eventId,
      ]);
      return rowCount > 0;
    },

    async commit(change) {
      try {
        return await client.transaction((tx) => applyChange(tx, change));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && TRANSIENT_CONFLICTS.has(code)) {
          throw Object.assign(new ConcurrencyConflictError(`commit of ${change.eventId} aborted (${code})`), { cause: error });
        }
        throw error;
      }
    },

    pendingOutbox: (limit) => pendingOutbox(client, limit),
    markPublished: (seqs) => markPublished(client, seqs),
    drainOutbox: (limit, publish) => drainOutbox(client, limit, publish),

    close: () => client.close(),
  };
}
