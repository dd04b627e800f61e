/**
 * The parts of amas_commit_set every version shares: which changes apply (not duplicates, no
 * conflict, and their processed mark written first), their new subtasks, and then their outbox rows
 * and the result.
 */
export const commitSetMarkAndInsert = `  ok := ARRAY(SELECT n FROM generate_series(1, jsonb_array_length(changes)) AS n
              WHERE NOT n = ANY (duplicates) AND NOT conflicts ? n::text ORDER BY n);

  -- A concurrent committer of the same event may have won since the check: that change is a duplicate.
  WITH marked AS (
    INSERT INTO processed_events (consumer, event_id)
    SELECT c.item->>'consumer', c.item->>'eventId' FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
    WHERE c.n::integer = ANY (ok)
    ON CONFLICT DO NOTHING
    RETURNING consumer, event_id
  )
  SELECT coalesce(array_agg(c.n::integer ORDER BY c.n), '{}') INTO ok
  FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
  JOIN marked m ON m.consumer = c.item->>'consumer' AND m.event_id = c.item->>'eventId';

  INSERT INTO subtasks (id, workflow_id, title, description, specialty, phase, estimated_minutes, priority, depends_on,
      success_criteria, quality_checkpoints, review_required, status, assigned_agent, attempts, lease_token, deadline,
      quality, output, last_error, version, updated_at)
    SELECT r.id, r.workflow_id, r.title, r.description, r.specialty, r.phase, r.estimated_minutes, r.priority, r.depends_on,
      r.success_criteria, r.quality_checkpoints, r.review_required, r.status, r.assigned_agent, r.attempts, r.lease_token,
      r.deadline, r.quality, r.output, r.last_error, r.version, r.updated_at
    FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
    CROSS JOIN LATERAL jsonb_array_elements(c.item->'insertSubtasks') WITH ORDINALITY AS e(item, m)
    CROSS JOIN LATERAL jsonb_populate_record(NULL::subtasks, e.item) AS r
    WHERE c.n::integer = ANY (ok)
    ORDER BY c.n, e.m;
`;
export const commitSetOutboxAndResult = `  WITH inserted AS (
    INSERT INTO outbox (topic, key, event, claimed_until)
    SELECT o.item->>'topic', o.item->>'key', o.item->'event',
      CASE WHEN coalesce((c.item->>'claimMs')::integer, 0) > 0 THEN clock_timestamp() + (c.item->>'claimMs')::integer * interval '1 millisecond' END
    FROM jsonb_array_elements(changes) WITH ORDINALITY AS c(item, n)
    CROSS JOIN LATERAL jsonb_array_elements(c.item->'outbox') WITH ORDINALITY AS o(item, m)
    WHERE c.n::integer = ANY (ok)
    ORDER BY c.n, o.m
    RETURNING seq
  )
  SELECT coalesce(array_agg(seq ORDER BY seq), '{}') INTO seqs FROM inserted;

  RETURN jsonb_build_object('ok', to_jsonb(ok), 'conflicts', conflicts, 'seqs', to_jsonb(seqs));
END
$fn$`;
