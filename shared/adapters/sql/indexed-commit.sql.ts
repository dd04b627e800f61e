import { commitSetMarkAndInsert, commitSetOutboxAndResult } from './commit-set-parts.sql.js';
import { withUsageColumn } from './usage.sql.js';

/**
 * Migration 11: amas_commit_set and amas_require_versions find every row by index, however large the
 * tables grow. Their first versions joined tables straight to jsonb_array_elements, whose row count
 * the planner cannot know (it assumes 100 per call), so on tables of a few thousand rows it chose a
 * hash join over a sequential scan of the whole table: in bench:kafka an UPDATE of 4 subtasks
 * scanned all 2,084 of them (10 ms), and the cost grew with every workflow ever run. Now the ids
 * are gathered first and every statement finds its rows with `id = ANY (ids)` (an index scan of
 * as many rows as the batch names), and lookups of single rows are correlated subqueries, which
 * PostgreSQL never turns into a scan of the whole table. Same arguments, same result, same lock
 * order (workflows then subtasks, each in id order) as the functions they replace.
 */
const commitSet = `CREATE FUNCTION amas_commit_set(changes jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  workflow_ids text[];
  subtask_ids text[];
  duplicates integer[];
  conflicts jsonb;
  ok integer[];
  seqs bigint[];
BEGIN
  workflow_ids := ARRAY(
    SELECT u.item->>'id' FROM jsonb_array_elements(changes) AS c(item) CROSS JOIN LATERAL jsonb_array_elements(c.item->'workflowUpdates') AS u(item)
    UNION
    SELECT c.item->'requireWorkflowStatus'->>'id' FROM jsonb_array_elements(changes) AS c(item) WHERE jsonb_typeof(c.item->'requireWorkflowStatus') = 'object');
  subtask_ids := ARRAY(
    SELECT DISTINCT u.item->>'id' FROM jsonb_array_elements(changes) AS c(item) CROSS JOIN LATERAL jsonb_array_elements(c.item->'subtaskUpdates') AS u(item));

  duplicates := ARRAY(
    SELECT c.n::integer FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
    WHERE (SELECT true FROM processed_events p WHERE p.consumer = c.item->>'consumer' AND p.event_id = c.item->>'eventId'));

  PERFORM 1 FROM workflows w WHERE w.id = ANY (workflow_ids) ORDER BY w.id FOR UPDATE;
  PERFORM 1 FROM subtasks s WHERE s.id = ANY (subtask_ids) ORDER BY s.id FOR UPDATE;

  SELECT coalesce(jsonb_object_agg(x.n, x.why), '{}') INTO conflicts FROM (
    SELECT DISTINCT ON (p.n) p.n, p.why FROM (
      SELECT c.n, 0 AS k, 0::bigint AS m,
          format('workflow %s is %s, not %s', c.item->'requireWorkflowStatus'->>'id', coalesce(f.status, 'missing'), c.item->'requireWorkflowStatus'->>'status') AS why
        FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
        CROSS JOIN LATERAL (SELECT (SELECT w.status FROM workflows w WHERE w.id = c.item->'requireWorkflowStatus'->>'id') AS status) f
        WHERE jsonb_typeof(c.item->'requireWorkflowStatus') = 'object' AND f.status IS DISTINCT FROM c.item->'requireWorkflowStatus'->>'status'
      UNION ALL
      SELECT c.n, 1, u.m, format('workflows %s is no longer at version %s', u.item->>'id', u.item->>'expectedVersion')
        FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
        CROSS JOIN LATERAL jsonb_array_elements(c.item->'workflowUpdates') WITH ORDINALITY AS u(item, m)
        CROSS JOIN LATERAL (SELECT (SELECT w.version FROM workflows w WHERE w.id = u.item->>'id') AS version) f
        WHERE f.version IS DISTINCT FROM (u.item->>'expectedVersion')::integer
      UNION ALL
      SELECT c.n, 2, u.m, format('subtasks %s is no longer at version %s', u.item->>'id', u.item->>'expectedVersion')
        FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
        CROSS JOIN LATERAL jsonb_array_elements(c.item->'subtaskUpdates') WITH ORDINALITY AS u(item, m)
        CROSS JOIN LATERAL (SELECT (SELECT s.version FROM subtasks s WHERE s.id = u.item->>'id') AS version) f
        WHERE f.version IS DISTINCT FROM (u.item->>'expectedVersion')::integer
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
  WHERE c.n::integer = ANY (ok) AND w.id = ANY (workflow_ids) AND w.id = u.item->>'id';

  UPDATE subtasks s SET (status, assigned_agent, attempts, lease_token, deadline, quality, output, last_error) =
      (SELECT r.status, r.assigned_agent, r.attempts, r.lease_token, r.deadline, r.quality, r.output, r.last_error
       FROM jsonb_populate_record(s, u.item->'patch') AS r),
    version = s.version + 1, updated_at = now()
  FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
  CROSS JOIN LATERAL jsonb_array_elements(c.item->'subtaskUpdates') AS u(item)
  WHERE c.n::integer = ANY (ok) AND s.id = ANY (subtask_ids) AND s.id = u.item->>'id';

${commitSetOutboxAndResult}`;

/** As migration 10's, with the rows it checks found by index (see above). */
const requireVersions = `CREATE OR REPLACE FUNCTION amas_require_versions(change jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  workflow_ids text[];
  subtask_ids text[];
  stale record;
BEGIN
  IF jsonb_typeof(change->'expectVersions') <> 'array' THEN RETURN; END IF;
  workflow_ids := ARRAY(SELECT e->>'id' FROM jsonb_array_elements(change->'expectVersions') e WHERE e->>'table' = 'workflows');
  subtask_ids := ARRAY(SELECT e->>'id' FROM jsonb_array_elements(change->'expectVersions') e WHERE e->>'table' = 'subtasks');
  PERFORM 1 FROM workflows w WHERE w.id = ANY (workflow_ids) ORDER BY w.id FOR SHARE;
  PERFORM 1 FROM subtasks s WHERE s.id = ANY (subtask_ids) ORDER BY s.id FOR SHARE;
  SELECT e->>'table' AS tbl, e->>'id' AS id, e->>'version' AS expected INTO stale
    FROM jsonb_array_elements(change->'expectVersions') e
    CROSS JOIN LATERAL (SELECT CASE e->>'table'
      WHEN 'workflows' THEN (SELECT w.version FROM workflows w WHERE w.id = e->>'id')
      WHEN 'subtasks' THEN (SELECT s.version FROM subtasks s WHERE s.id = e->>'id') END AS version) f
    WHERE f.version IS DISTINCT FROM (e->>'version')::integer
    LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'AMV01', MESSAGE = format('%s %s is no longer at version %s (read)', stale.tbl, stale.id, stale.expected);
  END IF;
END
$fn$`;

export const indexedCommitStatements: readonly string[] = [withUsageColumn(commitSet), requireVersions];
