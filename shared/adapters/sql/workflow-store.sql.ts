import { ConcurrencyConflictError } from '../../errors.js';
import type { EventSnapshot, OutboxRecord, SnapshotScope, StateChange, WorkflowStore } from '../../ports/workflow-store.port.js';
import { runMigrations } from './migrations.js';
import { readAttempts } from './attempts.sql.js';
import { columnPatch, json, subtaskColumns, subtaskRecord, toSubtask, toWorkflow, workflowColumns, type SubtaskRow, type WorkflowRow } from './rows.js';
import type { QueryOptions, SqlClient } from './sql-client.js';
import { createCoalescer, type Settled } from '../../coalesce.js';
import { drainOutbox, markPublished, pendingOutbox } from './outbox.sql.js';
import { defaultTenant } from '../../domain/scheduling.js';

const ACTIVE = ['pending', 'planned', 'awaiting_approval', 'running', 'paused'];
/** amas_commit found a row no longer at the version the handler read (migration 2). */
const VERSION_CONFLICT = 'AMV01';
/** Postgres aborted the transaction over a lock cycle or a serialization failure: a retry will do. */
const TRANSIENT_CONFLICTS = new Set(['40001', '40P01']);

const byId = <T extends { id: string }>(updates: readonly T[]): T[] => [...updates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** The change as amas_commit takes it: patches keyed by column, each list of patches in lock order. */
const commitArgument = (change: StateChange, claimMs: number): string =>
  JSON.stringify({
    claimMs: Math.max(0, Math.round(claimMs)),
    consumer: change.consumer,
    eventId: change.eventId,
    insertSubtasks: (change.insertSubtasks ?? []).map(subtaskRecord),
    workflowUpdates: byId(change.workflowUpdates ?? []).map((u) => ({ ...u, patch: columnPatch(workflowColumns, u.patch) })),
    subtaskUpdates: byId(change.subtaskUpdates ?? []).map((u) => ({ ...u, patch: columnPatch(subtaskColumns, u.patch) })),
    outbox: change.outbox ?? [],
    requireWorkflowStatus: change.requireWorkflowStatus ?? null,
    expectVersions: change.expectVersions ?? null,
  });

// A lone change: amas_commit, cheaper than the set-based function for one. The guard runs first
// (the CTE is scanned before the select list is computed), in the same statement.
const COMMIT = 'SELECT amas_commit($1::text::jsonb, $2::integer) AS seqs';
const GUARDED_COMMIT =
  'WITH guard AS MATERIALIZED (SELECT amas_require_workflow_status($1::text::jsonb)) SELECT amas_commit($1::text::jsonb, $2::integer) AS seqs FROM guard';
const VERSIONED_COMMIT =
  'WITH guard AS MATERIALIZED (SELECT amas_require_workflow_status($1::text::jsonb), amas_require_versions($1::text::jsonb)) SELECT amas_commit($1::text::jsonb, $2::integer) AS seqs FROM guard';
const COMMIT_SET = 'SELECT amas_commit_set($1::text::jsonb) AS result';
/** The per-event statements: planned once per connection. */
const PREPARED = { prepare: true } as const;
type CommitSetResult = { ok: number[]; conflicts: Record<string, string>; seqs: (string | number)[] };

const asConflict = (error: unknown, eventId: string): unknown => {
  const code = (error as { code?: unknown }).code;
  if (code === VERSION_CONFLICT) return Object.assign(new ConcurrencyConflictError((error as Error).message), { cause: error });
  if (typeof code === 'string' && TRANSIENT_CONFLICTS.has(code)) {
    return Object.assign(new ConcurrencyConflictError(`commit of ${eventId} aborted (${code})`), { cause: error });
  }
  return error;
};

const settled = <T>(outcome: Settled<T>): T => {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
};

interface PendingCommit {
  change: StateChange;
  claimMs: number;
}

/** What a change writes, guards or marks: two changes sharing any of these never go in one amas_commit_set. */
const footprint = ({ consumer, eventId, workflowUpdates, subtaskUpdates, insertSubtasks, requireWorkflowStatus, expectVersions }: StateChange): string[] => [
  `e:${consumer}:${eventId}`,
  ...(expectVersions ?? []).map((e) => `${e.table === 'workflows' ? 'w' : 's'}:${e.id}`),
  ...(workflowUpdates ?? []).map((u) => `w:${u.id}`),
  ...(requireWorkflowStatus ? [`w:${requireWorkflowStatus.id}`] : []),
  ...(subtaskUpdates ?? []).map((u) => `s:${u.id}`),
  ...(insertSubtasks ?? []).map((s) => `s:${s.id}`),
];

/**
 * Cuts a batch into runs of consecutive changes with disjoint footprints. A change that overlaps an
 * earlier one of its run starts the next run, so it commits after it and sees what it wrote, and
 * every change still commits in call order: outbox seqs follow the order commits were asked for.
 */
function runsOf(batch: readonly PendingCommit[]): PendingCommit[][] {
  const runs: PendingCommit[][] = [];
  let run: PendingCommit[] = [];
  let taken = new Set<string>();
  for (const pending of batch) {
    const keys = footprint(pending.change);
    // amas_commit_set has no read-set check: such a change commits alone (amas_commit with amas_require_versions).
    const alone = (pending.change.expectVersions?.length ?? 0) > 0;
    if (run.length > 0 && (alone || keys.some((key) => taken.has(key)) || run.some((p) => (p.change.expectVersions?.length ?? 0) > 0))) {
      runs.push(run);
      run = [];
      taken = new Set();
    }
    run.push(pending);
    for (const key of keys) taken.add(key);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Commits a group in one round trip, one transaction, one WAL flush (amas_commit_set): per change,
 * the outbox seqs written, null for a duplicate, or a retriable conflict. Changes that overlap go
 * in successive calls (runsOf). Should a call fail as a whole (a lost connection, a row breaking a
 * constraint), its changes are committed one by one, so each gets its own outcome and one bad
 * change cannot fail the others.
 */
async function commitBatch(client: SqlClient, batch: readonly PendingCommit[]): Promise<Settled<number[] | null>[]> {
  const settled: Settled<number[] | null>[] = [];
  for (const run of runsOf(batch)) settled.push(...(await commitSet(client, run)));
  return settled;
}

async function commitOne(client: SqlClient, { change, claimMs }: PendingCommit): Promise<Settled<number[] | null>> {
  try {
    const { rows } = await client.query<{ seqs: (string | number)[] | null }>(
      change.expectVersions?.length ? VERSIONED_COMMIT : change.requireWorkflowStatus ? GUARDED_COMMIT : COMMIT,
      [commitArgument(change, claimMs), Math.max(0, Math.round(claimMs))],
      PREPARED,
    );
    const seqs = rows[0]?.seqs;
    return { ok: true, value: seqs ? seqs.map(Number) : null };
  } catch (error) {
    return { ok: false, error: asConflict(error, change.eventId) };
  }
}

async function commitSet(client: SqlClient, group: readonly PendingCommit[]): Promise<Settled<number[] | null>[]> {
  if (group.length === 1) return [await commitOne(client, group[0]!)];
  let result: CommitSetResult | undefined;
  try {
    const { rows } = await client.query<{ result: CommitSetResult }>(
      COMMIT_SET,
      [`[${group.map(({ change, claimMs }) => commitArgument(change, claimMs)).join(',')}]`],
      PREPARED,
    );
    result = rows[0]?.result;
  } catch {
    const singles: Settled<number[] | null>[] = [];
    for (const pending of group) singles.push(await commitOne(client, pending));
    return singles;
  }
  if (!result) throw new Error('amas_commit_set returned no result');
  const applied = new Set(result.ok);
  let next = 0;
  return group.map(({ change }, i): Settled<number[] | null> => {
    const n = i + 1;
    const conflict = result.conflicts[String(n)];
    if (conflict !== undefined) return { ok: false, error: new ConcurrencyConflictError(conflict) };
    if (!applied.has(n)) return { ok: true, value: null };
    const count = change.outbox?.length ?? 0;
    const seqs = result.seqs.slice(next, next + count).map(Number);
    next += count;
    return { ok: true, value: seqs };
  });
}

interface PendingRead {
  consumer: string;
  eventId: string;
  workflowId: string;
  scope: SnapshotScope;
}
type SnapshotRow = { processed: boolean; workflow: WorkflowRow | null; subtasks: SubtaskRow[] | null };

/**
 * Every read of a batch in one query: per event, its processed mark, its workflow and the subtasks its
 * function reads. The mark is a correlated scalar subquery, not EXISTS: PostgreSQL may run an EXISTS
 * over unnest (which it assumes has 10 rows) as one hash of the whole processed_events table.
 */
const READ_BATCH = `SELECT
    coalesce((SELECT true FROM processed_events p WHERE p.consumer = r.consumer AND p.event_id = r.event_id), false) AS processed,
    (SELECT row_to_json(w) FROM workflows w WHERE w.id = r.workflow_id) AS workflow,
    CASE r.scope
      WHEN 'one' THEN (SELECT coalesce(json_agg(s), '[]') FROM subtasks s WHERE s.id = r.subtask_id)
      WHEN 'all' THEN (SELECT coalesce(json_agg(s ORDER BY s.seq), '[]') FROM subtasks s WHERE s.workflow_id = r.workflow_id)
    END AS subtasks
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    WITH ORDINALITY AS r(consumer, event_id, workflow_id, scope, subtask_id, n)
  ORDER BY r.n`;

async function readBatch(client: SqlClient, batch: readonly PendingRead[]): Promise<Settled<EventSnapshot>[]> {
  const { rows } = await client.query<SnapshotRow>(
    READ_BATCH,
    [
      batch.map((r) => r.consumer),
      batch.map((r) => r.eventId),
      batch.map((r) => r.workflowId),
      batch.map((r) => r.scope.subtasks),
      batch.map((r) => (r.scope.subtasks === 'one' ? r.scope.subtaskId : null)),
    ],
    PREPARED,
  );
  return batch.map((_, i) => {
    const row = rows[i];
    return {
      ok: true,
      value: {
        processed: row?.processed === true,
        workflow: row?.workflow ? toWorkflow(row.workflow) : null,
        subtasks: row?.subtasks ? row.subtasks.map(toSubtask) : null,
      },
    };
  });
}

const SUBTASKS = 'SELECT s.* FROM subtasks s';
/** The list filters: $1 status, $2 tenant, $3 submitter (each NULL for any). */
const LISTED = `($1::text IS NULL OR status = $1::text) AND ($2::text IS NULL OR tenant = $2::text)
  AND ($3::text IS NULL OR metadata->>'submittedBy' = $3::text)`;

/**
 * Waiting work in WaitingOrder, one statement. The waiting rows come from subtasks_waiting_idx. A
 * tenant's share is the slots of these specialties it holds (assigned or running, subtasks_held_idx)
 * plus those it left within the last aging period (subtasks_finished_idx): with few slots nobody
 * holds one at the moment it is granted, so the slots held alone could not tell the tenants apart.
 * Aging counts from updated_at: when the subtask was made ready (inserted or re-queued). The shares
 * are computed once (MATERIALIZED), and only when the waiting rows belong to more than one tenant:
 * with one, every row has the same share and the held and recently finished rows need not be read
 * (a one-time filter; they are most of this query's work when every slot is taken). The rows are
 * ranked on the waiting columns alone, and only the first `limit` are read whole, each by its key
 * (OFFSET 0 keeps the lookup a nested loop: the prepared statement's generic plan cannot tell how
 * few rows LIMIT $2 leaves and would hash the whole subtasks table).
 */
export const WAITING_WORK_SQL = `WITH waiting AS MATERIALIZED (
    SELECT s.id, s.seq, s.attempts, s.updated_at, w.tenant, w.priority FROM subtasks s JOIN workflows w ON w.id = s.workflow_id
    WHERE s.status = 'ready' AND s.assigned_agent IS NULL AND w.status = 'running' AND s.specialty = ANY($1::text[])
      AND ($7::text IS NULL OR w.tenant = $7::text)
  ), used AS (
    SELECT s.workflow_id FROM subtasks s
    WHERE s.assigned_agent IS NOT NULL AND s.status IN ('ready', 'in_progress') AND s.specialty = ANY($1::text[])
    UNION ALL
    SELECT s.workflow_id FROM subtasks s
    WHERE s.assigned_agent IS NOT NULL AND s.status IN ('completed', 'failed', 'cancelled') AND s.specialty = ANY($1::text[])
      AND s.updated_at > to_timestamp($6::float8 / 1000 - $3::float8)
  ), share AS MATERIALIZED (
    SELECT w.tenant, count(*)::float8 AS slots FROM used u JOIN workflows w ON w.id = u.workflow_id
    WHERE EXISTS (SELECT 1 FROM waiting x WHERE x.tenant <> (SELECT y.tenant FROM waiting y LIMIT 1))
    GROUP BY w.tenant
  ), ranked AS MATERIALIZED (
    SELECT x.id,
      least(5, CASE x.priority WHEN 'CRITICAL' THEN 5 WHEN 'URGENT' THEN 4 WHEN 'HIGH' THEN 3 WHEN 'NORMAL' THEN 2 ELSE 1 END
        + floor(greatest(0, $6::float8 / 1000 - extract(epoch FROM x.updated_at)::float8) / $3::float8)) AS rank,
      x.attempts > 0 AS rerun,
      coalesce(h.slots, 0) / coalesce(tw.weight, 1) AS tenant_share,
      x.updated_at, x.seq
    FROM waiting x
    LEFT JOIN share h ON h.tenant = x.tenant
    LEFT JOIN unnest($4::text[], $5::float8[]) AS tw(tenant, weight) ON tw.tenant = x.tenant
    ORDER BY rank DESC, rerun DESC, tenant_share, x.updated_at, x.seq
    LIMIT $2
  )
  SELECT s.* FROM ranked r CROSS JOIN LATERAL (SELECT * FROM subtasks t WHERE t.id = r.id OFFSET 0) s
  ORDER BY r.rank DESC, r.rerun DESC, r.tenant_share, r.updated_at, r.seq`;

/**
 * A submitted workflow and its outbox rows in one statement: data-modifying CTEs run to completion
 * whether or not the outer query reads them, and the outbox insert takes rows only when the
 * workflow was inserted (an idempotency key already taken inserts neither).
 */
const CREATE_WORKFLOW_SQL = `
  WITH w AS (
    INSERT INTO workflows (id, description, priority, metadata, idempotency_key, status, version, created_at, updated_at, tenant)
    VALUES ($1, $2, $3, $4::text::jsonb, $5, 'pending', 1, $6::timestamptz, $6::timestamptz, $7)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING *
  ), o AS (
    INSERT INTO outbox (topic, key, event)
    SELECT t, k, e::jsonb FROM unnest($8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS u(t, k, e, n)
    WHERE EXISTS (SELECT 1 FROM w)
    ORDER BY n
  )
  SELECT * FROM w`;

/** Batches per store at most in flight, and changes or reads per batch. */
const BATCHES_IN_FLIGHT = 4;
const MAX_BATCH = 64;

export function createSqlWorkflowStore(client: SqlClient): WorkflowStore {
  const workflows = async (sql: string, params: unknown[]) => (await client.query<WorkflowRow>(sql, params)).rows.map(toWorkflow);
  const subtasks = async (sql: string, params: unknown[], options?: QueryOptions) => (await client.query<SubtaskRow>(sql, params, options)).rows.map(toSubtask);
  // Concurrent consumers' reads and commits leave together (group commit), where the client allows it.
  const grouped = client.groupCommit === true;
  const read = grouped
    ? createCoalescer<PendingRead, EventSnapshot>({ run: (batch) => readBatch(client, batch), maxItems: MAX_BATCH, maxInFlight: BATCHES_IN_FLIGHT })
    : async (pending: PendingRead) => settled((await readBatch(client, [pending]))[0]!);
  const commit = grouped
    ? createCoalescer<PendingCommit, number[] | null>({ run: (batch) => commitBatch(client, batch), maxItems: MAX_BATCH, maxInFlight: BATCHES_IN_FLIGHT })
    : async (pending: PendingCommit) => settled(await commitOne(client, pending));

  return {
    async migrate() {
      await runMigrations(client);
    },

    async createWorkflow(input, outbox) {
      // One statement, so one round trip and atomic on its own: the outbox rows go in only with the workflow.
      const inserted = await client.query<WorkflowRow>(CREATE_WORKFLOW_SQL, [
        input.id,
        input.description,
        input.priority,
        json(input.metadata) ?? '{}',
        input.idempotencyKey,
        input.createdAt,
        input.tenant ?? defaultTenant,
        outbox.map((m) => m.topic),
        outbox.map((m) => m.key),
        outbox.map((m) => json(m.event)),
      ]);
      const [row] = inserted.rows;
      if (row) return { workflow: toWorkflow(row), created: true };
      // The key's owner committed before our insert gave way (ON CONFLICT waits for it): a new statement sees it.
      const existing = await client.query<WorkflowRow>('SELECT * FROM workflows WHERE idempotency_key = $1', [input.idempotencyKey]);
      const [found] = existing.rows;
      if (!found) throw new ConcurrencyConflictError(`idempotency key ${input.idempotencyKey} is being created`);
      return { workflow: toWorkflow(found), created: false };
    },

    async getWorkflow(id) {
      const [workflow] = await workflows('SELECT * FROM workflows WHERE id = $1', [id]);
      return workflow ?? null;
    },

    getWorkflowsById: async (ids) => (ids.length === 0 ? [] : workflows('SELECT * FROM workflows WHERE id = ANY($1::text[])', [[...ids]])),

    listWorkflows: ({ status, limit, offset, tenant, submittedBy }) =>
      workflows(
        `SELECT * FROM workflows WHERE ${LISTED}
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5`,
        [status ?? null, tenant ?? null, submittedBy ?? null, limit, offset],
      ),

    async countWorkflows({ status, tenant, submittedBy }) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflows WHERE ${LISTED}`, [
        status ?? null,
        tenant ?? null,
        submittedBy ?? null,
      ]);
      return rows[0]?.n ?? 0;
    },

    async countActiveWorkflows(tenant) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM workflows WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR tenant = $2::text)',
        [ACTIVE, tenant ?? null],
      );
      return rows[0]?.n ?? 0;
    },

    getSubtasks: (workflowId) => subtasks(`${SUBTASKS} WHERE s.workflow_id = $1 ORDER BY s.seq`, [workflowId]),

    async getSubtask(id) {
      const [subtask] = await subtasks(`${SUBTASKS} WHERE s.id = $1`, [id]);
      return subtask ?? null;
    },

    getSubtasksById: async (ids) => (ids.length === 0 ? [] : subtasks(`${SUBTASKS} WHERE s.id = ANY($1::text[])`, [[...ids]])),

    getAttempts: (workflowId) => readAttempts(client, workflowId),

    findWaitingSubtasks: (specialties, limit, { now, agingSeconds, tenantWeights, tenant }) =>
      subtasks(
        WAITING_WORK_SQL,
        [[...specialties], limit, agingSeconds, Object.keys(tenantWeights), Object.values(tenantWeights), now, tenant ?? null],
        PREPARED,
      ),

    findOverdueSubtasks: (now, limit) =>
      subtasks(
        `${SUBTASKS} WHERE s.status = 'in_progress' AND s.deadline < to_timestamp($1::double precision / 1000)
         ORDER BY s.deadline, s.seq LIMIT $2`,
        [now, limit],
      ),

    findLongRunningSubtasks: (changedBefore, limit) =>
      subtasks(
        `${SUBTASKS} WHERE s.status = 'in_progress' AND s.updated_at < to_timestamp($1::double precision / 1000)
         ORDER BY s.updated_at, s.seq LIMIT $2`,
        [changedBefore, limit],
      ),

    findSubtasksByAgent: (agentId) => subtasks(`${SUBTASKS} WHERE s.status = 'in_progress' AND s.assigned_agent = $1 ORDER BY s.seq`, [agentId]),

    readForEvent: (consumer, eventId, workflowId, scope) => read({ consumer, eventId, workflowId, scope }),

    async hasProcessed(consumer, eventId) {
      const { rowCount } = await client.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [consumer, eventId]);
      return rowCount > 0;
    },

    async commit(change) {
      return (await commit({ change, claimMs: 0 })) === null ? 'duplicate' : 'applied';
    },

    async commitClaimed(change, claimMs) {
      const seqs = await commit({ change, claimMs });
      if (seqs === null) return { status: 'duplicate' };
      const outbox = change.outbox ?? [];
      return { status: 'applied', outbox: outbox.map((message, i) => ({ ...message, seq: seqs[i] as number })) };
    },

    pendingOutbox: (limit) => pendingOutbox(client, limit),
    markPublished: (seqs) => markPublished(client, seqs),
    drainOutbox: (limit, publish) => drainOutbox(client, limit, publish),

    async unconsumedOutbox(consumers, afterSeq, limit) {
      const { rows } = await client.query<{ seq: string | number; topic: string; key: string; event: OutboxRecord['event'] }>(
        `SELECT o.seq, o.topic, o.key, o.event FROM outbox o
         JOIN unnest($1::text[], $2::text[]) AS c(topic, consumer) ON c.topic = o.topic
         JOIN workflows w ON w.id = o.key AND w.status = ANY($3::text[])
         WHERE o.seq > $4 AND o.published_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = c.consumer AND p.event_id = o.event->>'id')
         ORDER BY o.seq LIMIT $5`,
        [consumers.map((c) => c.topic), consumers.map((c) => c.consumer), ACTIVE, afterSeq, limit],
      );
      return rows.map((row) => ({ seq: Number(row.seq), topic: row.topic, key: row.key, event: row.event }));
    },

    close: () => client.close(),
  };
}
