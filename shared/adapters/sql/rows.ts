import { subtaskSchema, workflowSchema, type Subtask, type SubtaskPatch, type Workflow, type WorkflowPatch } from '../../domain/workflow.js';

/** Row shapes as either driver returns them: pg gives int8 as strings, PGlite as numbers. */
type Timestamp = Date | string;

export interface WorkflowRow {
  id: string;
  description: string;
  priority: string;
  metadata: Record<string, unknown>;
  idempotency_key: string | null;
  status: string;
  complexity: string | null;
  plan: unknown;
  failure_reason: string | null;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface SubtaskRow {
  id: string;
  workflow_id: string;
  title: string;
  description: string;
  specialty: string;
  phase: string;
  estimated_minutes: number;
  priority: number;
  depends_on: string[];
  success_criteria: string[];
  quality_checkpoints: string[];
  review_required: boolean;
  status: string;
  assigned_agent: string | null;
  attempts: number;
  lease_token: string | number | null;
  deadline: Timestamp | null;
  quality: number | null;
  output: unknown;
  last_error: string | null;
  version: number;
  updated_at: Timestamp;
}

const iso = (value: Timestamp): string => new Date(value).toISOString();
const isoOrNull = (value: Timestamp | null): string | null => (value === null ? null : iso(value));
/** Parameter for a jsonb column: sent as text so neither driver guesses how to encode it. */
export const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

export function toWorkflow(row: WorkflowRow): Workflow {
  return workflowSchema.parse({
    id: row.id,
    description: row.description,
    priority: row.priority,
    metadata: row.metadata,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    complexity: row.complexity,
    plan: row.plan,
    failureReason: row.failure_reason,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    completedAt: isoOrNull(row.completed_at),
  });
}

export function toSubtask(row: SubtaskRow): Subtask {
  return subtaskSchema.parse({
    id: row.id,
    workflowId: row.workflow_id,
    title: row.title,
    description: row.description,
    specialty: row.specialty,
    phase: row.phase,
    estimatedMinutes: row.estimated_minutes,
    priority: row.priority,
    dependsOn: row.depends_on,
    successCriteria: row.success_criteria,
    qualityCheckpoints: row.quality_checkpoints,
    reviewRequired: row.review_required,
    status: row.status,
    assignedAgent: row.assigned_agent,
    attempts: row.attempts,
    leaseToken: row.lease_token === null ? null : Number(row.lease_token),
    deadline: isoOrNull(row.deadline),
    quality: row.quality,
    output: row.output,
    lastError: row.last_error,
    version: row.version,
    updatedAt: iso(row.updated_at),
  });
}

/** Column name and the SQL cast of its parameter, for every patchable field. */
type ColumnMap<P> = Record<keyof P & string, readonly [column: string, cast: string]>;

export const workflowColumns: ColumnMap<Required<WorkflowPatch>> = {
  status: ['status', 'text'],
  complexity: ['complexity', 'text'],
  plan: ['plan', 'text::jsonb'],
  failureReason: ['failure_reason', 'text'],
  completedAt: ['completed_at', 'timestamptz'],
};

export const subtaskColumns: ColumnMap<Required<SubtaskPatch>> = {
  status: ['status', 'text'],
  assignedAgent: ['assigned_agent', 'text'],
  attempts: ['attempts', 'integer'],
  leaseToken: ['lease_token', 'bigint'],
  deadline: ['deadline', 'timestamptz'],
  quality: ['quality', 'double precision'],
  output: ['output', 'text::jsonb'],
  lastError: ['last_error', 'text'],
};

/**
 * `SET a = $3, b = $4, version = version + 1, updated_at = now()` and its parameters for the
 * fields present in the patch; the column names come from the maps above, never from input.
 */
export function setClause<P extends object>(columns: ColumnMap<Required<P>>, patch: P, firstParam: number) {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(patch)) {
    const mapping = (columns as Record<string, readonly [string, string]>)[field];
    if (value === undefined || !mapping) continue;
    const [column, cast] = mapping;
    params.push(cast.endsWith('jsonb') ? json(value) : value);
    sets.push(`${column} = $${firstParam + params.length - 1}::${cast}`);
  }
  sets.push('version = version + 1', 'updated_at = now()');
  return { sql: sets.join(', '), params };
}
