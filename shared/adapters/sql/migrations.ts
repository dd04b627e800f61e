import type { SqlClient } from './sql-client.js';

export interface Migration {
  version: number;
  name: string;
  /** One statement each: PGlite's parameterised query runs a single statement at a time. */
  statements: readonly string[];
}

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
