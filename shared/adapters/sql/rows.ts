import { subtaskSchema, workflowSchema, type Subtask, type SubtaskPatch, type Workflow, type WorkflowPatch } from '../../domain/workflow.js';

/** Row shapes as either driver returns them: pg gives int8 as strings, PGlite as numbers. */
type Timestamp = Date | string;

export interface WorkflowRow {
  id: string;
  description: string;
  priority: string;
  tenant: string;
  metadata: Record<string, unknown>;
  idempotency_key: string | null;
  status: string;
  complexity: string | null;
  plan: unknown;
  failure_reason: string | null;
  usage: unknown;
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
    tenant: row.tenant,
    metadata: row.metadata,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    complexity: row.complexity,
    plan: row.plan,
    failureReason: row.failure_reason,
    usage: row.usage,
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

/** Column name of every patchable field. */
type ColumnMap<P> = Record<keyof P & string, string>;

export const workflowColumns: ColumnMap<Required<WorkflowPatch>> = {
  status: 'status',
  complexity: 'complexity',
  plan: 'plan',
  failureReason: 'failure_reason',
  completedAt: 'completed_at',
  usage: 'usage',
};

export const subtaskColumns: ColumnMap<Required<SubtaskPatch>> = {
  status: 'status',
  assignedAgent: 'assigned_agent',
  attempts: 'attempts',
  leaseToken: 'lease_token',
  deadline: 'deadline',
  quality: 'quality',
  output: 'output',
  lastError: 'last_error',
};

/**
 * A patch keyed by column, for amas_commit (the names come from the maps above, never from input;
 * an undefined field is left out and keeps its value).
 */
export function columnPatch<P extends object>(columns: ColumnMap<Required<P>>, patch: P): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    const column = (columns as Record<string, string>)[field];
    if (value !== undefined && column) out[column] = value;
  }
  return out;
}

/** A new subtask keyed by column, for amas_commit's jsonb_populate_record. */
export const subtaskRecord = (s: Subtask): Record<string, unknown> => ({
  id: s.id,
  workflow_id: s.workflowId,
  title: s.title,
  description: s.description,
  specialty: s.specialty,
  phase: s.phase,
  estimated_minutes: s.estimatedMinutes,
  priority: s.priority,
  depends_on: s.dependsOn,
  success_criteria: s.successCriteria,
  quality_checkpoints: s.qualityCheckpoints,
  review_required: s.reviewRequired,
  status: s.status,
  assigned_agent: s.assignedAgent,
  attempts: s.attempts,
  lease_token: s.leaseToken,
  deadline: s.deadline,
  quality: s.quality,
  output: s.output,
  last_error: s.lastError,
  version: s.version,
  updated_at: s.updatedAt,
});
