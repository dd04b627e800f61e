import { subtaskAttemptSchema, type SubtaskAttempt } from '../../api/attempts.js';
import type { SqlClient } from './sql-client.js';

/**
 * Migration 9: every attempt of every subtask, written by a trigger on `subtasks` in the same
 * transaction as the change (as migration 5's state_changes), so whoever commits — a function
 * process, the API's commands, the embedded runtime on PGlite — leaves the same history.
 *
 * Attempt n opens when an agent is assigned for it (`assigned`), runs from its dispatch (`running`,
 * with the fencing token) and ends with the outcome of the update that takes it out of
 * `in_progress`: `completed` with its quality, `failed` with the error that re-queued or failed it
 * (a result below the threshold keeps its quality; a timeout or a lost agent its cause), or
 * `cancelled`. `reason` is why attempt n > 1 ran: the subtask's last error when it was assigned or
 * dispatched (the previous attempt's failure, or the quality gate that sent a completed subtask back).
 * An assignment handed back before dispatch (resume) is forgotten: that attempt never started.
 */
export const attemptStatements: readonly string[] = [
  `CREATE TABLE subtask_attempts (
    subtask_id  text NOT NULL REFERENCES subtasks (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    workflow_id text NOT NULL,
    agent_id    text,
    lease_token bigint,
    status      text NOT NULL,
    quality     double precision,
    error       text,
    reason      text,
    assigned_at timestamptz,
    started_at  timestamptz,
    ended_at    timestamptz,
    PRIMARY KEY (subtask_id, attempt)
  )`,
  `CREATE INDEX subtask_attempts_workflow_idx ON subtask_attempts (workflow_id)`,
  `CREATE FUNCTION amas_record_subtask_attempt() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.status = 'in_progress' THEN
    -- Only the complete handler takes a subtask out of in_progress other than by cancelling, and it
    -- writes the result's quality (null for a failure) in that update; a cancel leaves an older one.
    UPDATE subtask_attempts SET
      status = CASE WHEN NEW.status IN ('completed', 'cancelled') THEN NEW.status ELSE 'failed' END,
      quality = CASE WHEN NEW.status = 'cancelled' THEN NULL ELSE NEW.quality END,
      error = CASE WHEN NEW.status = 'completed' THEN NULL ELSE NEW.last_error END,
      ended_at = clock_timestamp()
    WHERE subtask_id = NEW.id AND attempt = OLD.attempts AND ended_at IS NULL;
  ELSIF OLD.status = 'ready' AND OLD.assigned_agent IS NOT NULL AND NEW.status = 'cancelled' THEN
    UPDATE subtask_attempts SET status = 'cancelled', error = NEW.last_error, ended_at = clock_timestamp()
    WHERE subtask_id = NEW.id AND attempt = OLD.attempts + 1 AND ended_at IS NULL;
  ELSIF OLD.status = 'ready' AND NEW.status = 'ready' AND NEW.attempts = OLD.attempts THEN
    IF NEW.assigned_agent IS NULL THEN
      DELETE FROM subtask_attempts WHERE subtask_id = NEW.id AND attempt = NEW.attempts + 1 AND started_at IS NULL;
    ELSE
      INSERT INTO subtask_attempts (subtask_id, attempt, workflow_id, agent_id, status, reason, assigned_at)
        VALUES (NEW.id, NEW.attempts + 1, NEW.workflow_id, NEW.assigned_agent, 'assigned',
          CASE WHEN NEW.attempts > 0 THEN NEW.last_error END, clock_timestamp())
        ON CONFLICT (subtask_id, attempt) DO UPDATE SET agent_id = EXCLUDED.agent_id, assigned_at = EXCLUDED.assigned_at;
    END IF;
  END IF;
  IF NEW.status = 'in_progress' AND (OLD.status <> 'in_progress' OR NEW.attempts <> OLD.attempts) THEN
    INSERT INTO subtask_attempts (subtask_id, attempt, workflow_id, agent_id, lease_token, status, reason, started_at)
      VALUES (NEW.id, NEW.attempts, NEW.workflow_id, NEW.assigned_agent, NEW.lease_token, 'running',
        CASE WHEN NEW.attempts > 1 THEN OLD.last_error END, clock_timestamp())
      ON CONFLICT (subtask_id, attempt) DO UPDATE SET agent_id = EXCLUDED.agent_id, lease_token = EXCLUDED.lease_token,
        status = 'running', reason = coalesce(subtask_attempts.reason, EXCLUDED.reason), started_at = EXCLUDED.started_at, ended_at = NULL;
  END IF;
  RETURN NULL;
END
$fn$`,
  `CREATE TRIGGER subtasks_record_attempt AFTER UPDATE ON subtasks FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.assigned_agent IS DISTINCT FROM NEW.assigned_agent OR OLD.attempts IS DISTINCT FROM NEW.attempts)
    EXECUTE FUNCTION amas_record_subtask_attempt()`,
];

interface AttemptRow {
  subtask_id: string;
  attempt: number;
  agent_id: string | null;
  lease_token: string | number | null;
  status: string;
  quality: number | null;
  error: string | null;
  reason: string | null;
  assigned_at: Date | string | null;
  started_at: Date | string | null;
  ended_at: Date | string | null;
}

const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

const toAttempt = (row: AttemptRow): SubtaskAttempt => {
  const startedAt = isoOrNull(row.started_at);
  const endedAt = isoOrNull(row.ended_at);
  return subtaskAttemptSchema.parse({
    subtaskId: row.subtask_id,
    attempt: row.attempt,
    agentId: row.agent_id,
    leaseToken: row.lease_token === null ? null : Number(row.lease_token),
    status: row.status,
    quality: row.quality,
    error: row.error,
    reason: row.reason,
    assignedAt: isoOrNull(row.assigned_at),
    startedAt,
    endedAt,
    durationMs: startedAt !== null && endedAt !== null ? Date.parse(endedAt) - Date.parse(startedAt) : null,
  });
};

/** A workflow's attempts, subtask by subtask in plan order, each subtask's attempts in order. */
export async function readAttempts(client: SqlClient, workflowId: string): Promise<SubtaskAttempt[]> {
  const { rows } = await client.query<AttemptRow>(
    `SELECT a.subtask_id, a.attempt, a.agent_id, a.lease_token, a.status, a.quality, a.error, a.reason, a.assigned_at, a.started_at, a.ended_at
     FROM subtask_attempts a JOIN subtasks s ON s.id = a.subtask_id
     WHERE a.workflow_id = $1 ORDER BY s.seq, a.attempt`,
    [workflowId],
  );
  return rows.map(toAttempt);
}
