import { apiKeyStatements } from './api-keys.sql.js';
import { workflowUsageStatements } from './usage.sql.js';
import { attemptStatements } from './attempts.sql.js';
import { indexedCommitStatements } from './indexed-commit.sql.js';
import { commitSetMarkAndInsert, commitSetOutboxAndResult } from './commit-set-parts.sql.js';
import type { SqlClient } from './sql-client.js';

export interface Migration {
  version: number;
  name: string;
  /** One statement each: PGlite's parameterised query runs a single statement at a time. */
  statements: readonly string[];
}

/**
 * WorkflowStore.commit as one statement: the idempotency mark (NULL when already there), the
 * subtask inserts, the versioned patches in the caller's order (sorted by id: a fixed lock order
 * keeps overlapping commits from deadlocking), the outbox rows; returns their seqs. A row no longer
 * at its expected version raises SQLSTATE AMV01 and rolls everything back. Patches are keyed by
 * column name: jsonb_populate_record overlays them on the current row, so absent keys keep their value.
 */
const commitFunction = `CREATE FUNCTION amas_commit(change jsonb, claim_ms integer) RETURNS bigint[] LANGUAGE plpgsql AS $fn$
DECLARE
  u record;
  seqs bigint[];
BEGIN
  INSERT INTO processed_events (consumer, event_id) VALUES (change->>'consumer', change->>'eventId') ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN RETURN NULL; END IF;

  INSERT INTO subtasks (id, workflow_id, title, description, specialty, phase, estimated_minutes, priority, depends_on,
      success_criteria, quality_checkpoints, review_required, status, assigned_agent, attempts, lease_token, deadline,
      quality, output, last_error, version, updated_at)
    SELECT r.id, r.workflow_id, r.title, r.description, r.specialty, r.phase, r.estimated_minutes, r.priority, r.depends_on,
      r.success_criteria, r.quality_checkpoints, r.review_required, r.status, r.assigned_agent, r.attempts, r.lease_token,
      r.deadline, r.quality, r.output, r.last_error, r.version, r.updated_at
    FROM jsonb_array_elements(change->'insertSubtasks') WITH ORDINALITY AS e(item, n)
    CROSS JOIN LATERAL jsonb_populate_record(NULL::subtasks, e.item) AS r
    ORDER BY e.n;

  FOR u IN SELECT e.item->>'id' AS id, (e.item->>'expectedVersion')::integer AS expected, e.item->'patch' AS patch
      FROM jsonb_array_elements(change->'workflowUpdates') WITH ORDINALITY AS e(item, n) ORDER BY e.n LOOP
    UPDATE workflows w SET (status, complexity, plan, failure_reason, completed_at) =
        (SELECT r.status, r.complexity, r.plan, r.failure_reason, r.completed_at FROM jsonb_populate_record(w, u.patch) AS r),
      version = w.version + 1, updated_at = now()
    WHERE w.id = u.id AND w.version = u.expected;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'AMV01', MESSAGE = format('workflows %s is no longer at version %s', u.id, u.expected);
    END IF;
  END LOOP;

  FOR u IN SELECT e.item->>'id' AS id, (e.item->>'expectedVersion')::integer AS expected, e.item->'patch' AS patch
      FROM jsonb_array_elements(change->'subtaskUpdates') WITH ORDINALITY AS e(item, n) ORDER BY e.n LOOP
    UPDATE subtasks s SET (status, assigned_agent, attempts, lease_token, deadline, quality, output, last_error) =
        (SELECT r.status, r.assigned_agent, r.attempts, r.lease_token, r.deadline, r.quality, r.output, r.last_error
         FROM jsonb_populate_record(s, u.patch) AS r),
      version = s.version + 1, updated_at = now()
    WHERE s.id = u.id AND s.version = u.expected;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'AMV01', MESSAGE = format('subtasks %s is no longer at version %s', u.id, u.expected);
    END IF;
  END LOOP;

  WITH inserted AS (
    INSERT INTO outbox (topic, key, event, claimed_until)
    SELECT e.item->>'topic', e.item->>'key', e.item->'event',
      CASE WHEN claim_ms > 0 THEN clock_timestamp() + claim_ms * interval '1 millisecond' END
    FROM jsonb_array_elements(change->'outbox') WITH ORDINALITY AS e(item, n)
    ORDER BY e.n
    RETURNING seq
  )
  SELECT coalesce(array_agg(seq ORDER BY seq), '{}') INTO seqs FROM inserted;
  RETURN seqs;
END
$fn$`;

/**
 * Raises AMV01 (a version conflict: re-read and retry) unless the change's workflow is in the status
 * it requires. FOR SHARE holds the row until the commit: a concurrent pause's UPDATE waits for it, or
 * committed first and is seen here.
 */
const guardFunction = `CREATE FUNCTION amas_require_workflow_status(change jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  guard jsonb := change->'requireWorkflowStatus';
  found_status text;
BEGIN
  IF guard IS NULL OR jsonb_typeof(guard) <> 'object' THEN RETURN; END IF;
  SELECT w.status INTO found_status FROM workflows w WHERE w.id = guard->>'id' FOR SHARE;
  IF found_status IS DISTINCT FROM guard->>'status' THEN
    RAISE EXCEPTION USING ERRCODE = 'AMV01',
      MESSAGE = format('workflow %s is %s, not %s', guard->>'id', coalesce(found_status, 'missing'), guard->>'status');
  END IF;
END
$fn$`;

/**
 * Raises AMV01 (a version conflict: re-read and retry) unless every row the change's handler read
 * (`expectVersions`, not only the rows it patches) is still at the version it read: a handler run
 * from state an event carried commits only if that state is still current. FOR SHARE holds the rows
 * until the commit, workflows then subtasks, each in id order, as every commit locks them.
 */
const requireVersionsFunction = `CREATE FUNCTION amas_require_versions(change jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  stale record;
BEGIN
  IF jsonb_typeof(change->'expectVersions') <> 'array' THEN RETURN; END IF;
  PERFORM 1 FROM workflows w WHERE w.id IN (
    SELECT e->>'id' FROM jsonb_array_elements(change->'expectVersions') e WHERE e->>'table' = 'workflows') ORDER BY w.id FOR SHARE;
  PERFORM 1 FROM subtasks s WHERE s.id IN (
    SELECT e->>'id' FROM jsonb_array_elements(change->'expectVersions') e WHERE e->>'table' = 'subtasks') ORDER BY s.id FOR SHARE;
  SELECT e->>'table' AS tbl, e->>'id' AS id, e->>'version' AS expected INTO stale
    FROM jsonb_array_elements(change->'expectVersions') e
    LEFT JOIN workflows w ON e->>'table' = 'workflows' AND w.id = e->>'id'
    LEFT JOIN subtasks s ON e->>'table' = 'subtasks' AND s.id = e->>'id'
    WHERE coalesce(w.version, s.version) IS DISTINCT FROM (e->>'version')::integer
    LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'AMV01', MESSAGE = format('%s %s is no longer at version %s (read)', stale.tbl, stale.id, stale.expected);
  END IF;
END
$fn$`;

/**
 * Many WorkflowStore.commits in one transaction (one WAL flush for all), set-based: a few statements
 * per batch, however many changes it holds. The caller never puts two changes that touch the same
 * row (or the same processed mark) in one batch, so each change is checked and written exactly as if
 * it had committed alone: a duplicate (already processed) writes nothing; a change whose required
 * workflow status or any versioned row no longer matches what its handler read writes nothing and
 * is reported as a conflict (retriable: re-read, run the handler again); the rest are written as
 * amas_commit writes one. Every row the batch writes or guards is locked first, workflows then
 * subtasks, each in id order: one order for every batch, so overlapping batches cannot deadlock.
 * Returns {"ok": [n...], "conflicts": {"n": "why"}, "seqs": [...]}: n is a change's 1-based position,
 * any other change was a duplicate; seqs are the outbox rows of the applied changes in change then
 * row order, ascending.
 */
const commitSetFunction = `CREATE FUNCTION amas_commit_set(changes jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  duplicates integer[];
  conflicts jsonb;
  ok integer[];
  seqs bigint[];
BEGIN
  SELECT coalesce(array_agg(c.n::integer), '{}') INTO duplicates
  FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
  WHERE EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = c.item->>'consumer' AND p.event_id = c.item->>'eventId');

  PERFORM 1 FROM workflows w
  WHERE w.id IN (
    SELECT u.item->>'id' FROM jsonb_array_elements(changes) AS c(item) CROSS JOIN LATERAL jsonb_array_elements(c.item->'workflowUpdates') AS u(item)
    UNION
    SELECT c.item->'requireWorkflowStatus'->>'id' FROM jsonb_array_elements(changes) AS c(item) WHERE jsonb_typeof(c.item->'requireWorkflowStatus') = 'object')
  ORDER BY w.id FOR UPDATE;
  PERFORM 1 FROM subtasks s
  WHERE s.id IN (SELECT u.item->>'id' FROM jsonb_array_elements(changes) AS c(item) CROSS JOIN LATERAL jsonb_array_elements(c.item->'subtaskUpdates') AS u(item))
  ORDER BY s.id FOR UPDATE;

  SELECT coalesce(jsonb_object_agg(x.n, x.why), '{}') INTO conflicts FROM (
    SELECT DISTINCT ON (p.n) p.n, p.why FROM (
      SELECT c.n, 0 AS k, 0::bigint AS m,
          format('workflow %s is %s, not %s', c.item->'requireWorkflowStatus'->>'id', coalesce(w.status, 'missing'), c.item->'requireWorkflowStatus'->>'status') AS why
        FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
        LEFT JOIN workflows w ON w.id = c.item->'requireWorkflowStatus'->>'id'
        WHERE jsonb_typeof(c.item->'requireWorkflowStatus') = 'object' AND w.status IS DISTINCT FROM c.item->'requireWorkflowStatus'->>'status'
      UNION ALL
      SELECT c.n, 1, u.m, format('workflows %s is no longer at version %s', u.item->>'id', u.item->>'expectedVersion')
        FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
        CROSS JOIN LATERAL jsonb_array_elements(c.item->'workflowUpdates') WITH ORDINALITY AS u(item, m)
        LEFT JOIN workflows w ON w.id = u.item->>'id'
        WHERE w.version IS DISTINCT FROM (u.item->>'expectedVersion')::integer
      UNION ALL
      SELECT c.n, 2, u.m, format('subtasks %s is no longer at version %s', u.item->>'id', u.item->>'expectedVersion')
        FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
        CROSS JOIN LATERAL jsonb_array_elements(c.item->'subtaskUpdates') WITH ORDINALITY AS u(item, m)
        LEFT JOIN subtasks s ON s.id = u.item->>'id'
        WHERE s.version IS DISTINCT FROM (u.item->>'expectedVersion')::integer
    ) p
    WHERE NOT p.n::integer = ANY (duplicates)
    ORDER BY p.n, p.k, p.m
  ) x;

${commitSetMarkAndInsert}
  UPDATE workflows w SET (status, complexity, plan, failure_reason, completed_at) =
      (SELECT r.status, r.complexity, r.plan, r.failure_reason, r.completed_at FROM jsonb_populate_record(w, u.item->'patch') AS r),
    version = w.version + 1, updated_at = now()
  FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
  CROSS JOIN LATERAL jsonb_array_elements(c.item->'workflowUpdates') AS u(item)
  WHERE c.n::integer = ANY (ok) AND w.id = u.item->>'id';

  UPDATE subtasks s SET (status, assigned_agent, attempts, lease_token, deadline, quality, output, last_error) =
      (SELECT r.status, r.assigned_agent, r.attempts, r.lease_token, r.deadline, r.quality, r.output, r.last_error
       FROM jsonb_populate_record(s, u.item->'patch') AS r),
    version = s.version + 1, updated_at = now()
  FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
  CROSS JOIN LATERAL jsonb_array_elements(c.item->'subtaskUpdates') AS u(item)
  WHERE c.n::integer = ANY (ok) AND s.id = u.item->>'id';

${commitSetOutboxAndResult}`;

/**
 * Every committed state change, written by triggers so no code path (a function's commit, the API's
 * commands, a migration) can change a status without a trace. `txid` is the writing transaction: a
 * reader that stops below the oldest running transaction (pg_snapshot_xmin) never skips a row a
 * slower transaction commits later, which a bare sequence would allow.
 */
const stateChangeStatements = [
  `CREATE TABLE state_changes (
    seq             bigserial PRIMARY KEY,
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    workflow_id     text NOT NULL,
    subtask_id      text,
    status          text NOT NULL,
    previous_status text,
    agent_id        text,
    attempt         integer,
    quality         double precision,
    error           text
  )`,
  `CREATE INDEX state_changes_position_idx ON state_changes (txid, seq)`,
  `CREATE INDEX state_changes_workflow_idx ON state_changes (workflow_id, txid, seq)`,
  `CREATE INDEX state_changes_at_idx ON state_changes (at)`,
  `CREATE FUNCTION amas_record_subtask_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status AND NEW.assigned_agent IS NOT DISTINCT FROM OLD.assigned_agent
     AND NEW.attempts IS NOT DISTINCT FROM OLD.attempts AND NEW.quality IS NOT DISTINCT FROM OLD.quality
     AND NEW.last_error IS NOT DISTINCT FROM OLD.last_error THEN
    RETURN NULL;
  END IF;
  INSERT INTO state_changes (workflow_id, subtask_id, status, previous_status, agent_id, attempt, quality, error)
    VALUES (NEW.workflow_id, NEW.id, NEW.status, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.assigned_agent,
      NEW.attempts, NEW.quality, NEW.last_error);
  RETURN NULL;
END
$fn$`,
  `CREATE TRIGGER subtasks_record_change AFTER INSERT OR UPDATE ON subtasks FOR EACH ROW EXECUTE FUNCTION amas_record_subtask_change()`,
  `CREATE FUNCTION amas_record_workflow_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN RETURN NULL; END IF;
  INSERT INTO state_changes (workflow_id, subtask_id, status, previous_status, error)
    VALUES (NEW.id, NULL, NEW.status, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.failure_reason);
  RETURN NULL;
END
$fn$`,
  // Deferred to the commit, so a workflow's change follows its subtasks' in the same transaction
  // (a reader sees the last subtask complete before the workflow does).
  `CREATE CONSTRAINT TRIGGER workflows_record_change AFTER INSERT OR UPDATE ON workflows DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION amas_record_workflow_change()`,
  // A dead letter lives on its <topic>.dlq topic; this only remembers which ones an operator re-drove.
  `CREATE TABLE dead_letter_redrives (
    id           text PRIMARY KEY,
    topic        text NOT NULL,
    redriven_at  timestamptz NOT NULL DEFAULT now(),
    redrive_count integer NOT NULL DEFAULT 1
  )`,
];

/** Append only: an applied migration is never edited, a change is a new version. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'workflows, subtasks, processed events, outbox',
    statements: [
      `CREATE TABLE workflows (
        id              text PRIMARY KEY,
        description     text NOT NULL,
        priority        text NOT NULL,
        metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
        idempotency_key text UNIQUE,
        status          text NOT NULL,
        complexity      text,
        plan            jsonb,
        failure_reason  text,
        version         integer NOT NULL DEFAULT 1,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        completed_at    timestamptz
      )`,
      `CREATE INDEX workflows_status_created_idx ON workflows (status, created_at DESC)`,
      `CREATE INDEX workflows_created_idx ON workflows (created_at DESC, id DESC)`,
      `CREATE TABLE subtasks (
        id                  text PRIMARY KEY,
        workflow_id         text NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
        seq                 bigint GENERATED ALWAYS AS IDENTITY,
        title               text NOT NULL,
        description         text NOT NULL,
        specialty           text NOT NULL,
        phase               text NOT NULL,
        estimated_minutes   double precision NOT NULL,
        priority            integer NOT NULL,
        depends_on          jsonb NOT NULL DEFAULT '[]'::jsonb,
        success_criteria    jsonb NOT NULL DEFAULT '[]'::jsonb,
        quality_checkpoints jsonb NOT NULL DEFAULT '[]'::jsonb,
        review_required     boolean NOT NULL,
        status              text NOT NULL,
        assigned_agent      text,
        attempts            integer NOT NULL DEFAULT 0,
        lease_token         bigint,
        deadline            timestamptz,
        quality             double precision,
        output              jsonb,
        last_error          text,
        version             integer NOT NULL DEFAULT 1,
        updated_at          timestamptz NOT NULL
      )`,
      `CREATE INDEX subtasks_workflow_idx ON subtasks (workflow_id, seq)`,
      `CREATE INDEX subtasks_waiting_idx ON subtasks (specialty, updated_at)
        WHERE status = 'ready' AND assigned_agent IS NULL`,
      `CREATE INDEX subtasks_overdue_idx ON subtasks (deadline) WHERE status = 'in_progress'`,
      `CREATE INDEX subtasks_agent_idx ON subtasks (assigned_agent) WHERE status = 'in_progress'`,
      `CREATE TABLE processed_events (
        consumer     text NOT NULL,
        event_id     text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`,
      `CREATE TABLE outbox (
        seq          bigserial PRIMARY KEY,
        topic        text NOT NULL,
        key          text NOT NULL,
        event        jsonb NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`,
      `CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL`,
    ],
  },
  {
    version: 2,
    name: 'commit in one round trip; outbox rows claimed by the process that publishes them',
    statements: [
      // Rows a committing process publishes itself; the relay leaves them alone until the claim lapses.
      `ALTER TABLE outbox ADD COLUMN claimed_until timestamptz`,
      commitFunction,
    ],
  },
  {
    version: 3,
    name: 'a commit may require its workflow to still be in a status (dispatch: running, so a pause wins the race)',
    statements: [guardFunction],
  },
  {
    version: 4,
    name: 'many commits in one transaction (group commit), set-based: amas_commit_set',
    statements: [commitSetFunction],
  },
  {
    version: 5,
    name: 'state changes recorded by triggers (live streams, logs); dead-letter redrive marks',
    statements: stateChangeStatements,
  },
  {
    version: 6,
    name: 'workflows belong to a tenant; the slots each tenant holds are counted for fair scheduling',
    statements: [
      `ALTER TABLE workflows ADD COLUMN tenant text NOT NULL DEFAULT 'default'`,
      // The slots a tenant holds (assigned or running) and recently held: findWaitingSubtasks' share per tenant.
      `CREATE INDEX subtasks_held_idx ON subtasks (specialty, workflow_id) WHERE assigned_agent IS NOT NULL AND status IN ('ready', 'in_progress')`,
      `CREATE INDEX subtasks_finished_idx ON subtasks (specialty, updated_at, workflow_id)
        WHERE assigned_agent IS NOT NULL AND status IN ('completed', 'failed', 'cancelled')`,
    ],
  },
  {
    version: 7,
    name: 'API keys (AMAS_AUTH=keys), stored hashed',
    statements: apiKeyStatements,
  },
  {
    version: 8,
    name: 'what each workflow spent on models (tokens, cost), written by the commit that spent it',
    statements: workflowUsageStatements([commitFunction, commitSetFunction]),
  },
  {
    version: 9,
    name: 'attempt history: every attempt of every subtask, recorded by a trigger on subtasks',
    statements: attemptStatements,
  },
  {
    version: 10,
    name: 'a commit may require the rows its handler read to be at the versions read (event-carried state)',
    statements: [requireVersionsFunction],
  },
  {
    version: 11,
    name: 'amas_commit_set and amas_require_versions find rows by index, not by scanning whole tables',
    statements: indexedCommitStatements,
  },
];

/** Any constant shared by every migrator of the database; "amas" in ASCII. */
const MIGRATION_LOCK = 0x616d6173;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, all in one transaction.
 * The advisory lock makes a second process wait and then find nothing left to do.
 */
export async function runMigrations(client: SqlClient, all: readonly Migration[] = migrations): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const pending = [...all].filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
    for (const migration of pending) {
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
    return pending.map((m) => m.version);
  });
}
