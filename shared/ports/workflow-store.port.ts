import type { AnyCloudEvent } from '../events/envelope.js';
import type { Subtask, SubtaskPatch, Workflow, WorkflowPatch } from '../domain/workflow.js';
import type { WorkflowStatus } from '../domain/vocabulary.js';
import type { Specialty } from '../domain/vocabulary.js';

export interface VersionedPatch<P> {
  id: string;
  /** The version the handler read; the write fails with a retriable conflict if it moved. */
  expectedVersion: number;
  patch: P;
}

/** Everything one handler invocation changes, written in one transaction with its outbox. */
export interface StateChange {
  /** Idempotency: the (consumer, eventId) pair is recorded; a second commit is a no-op. */
  consumer: string;
  eventId: string;
  insertSubtasks?: Subtask[];
  workflowUpdates?: VersionedPatch<WorkflowPatch>[];
  subtaskUpdates?: VersionedPatch<SubtaskPatch>[];
  outbox?: OutboxMessage[];
}

export interface OutboxMessage {
  topic: string;
  key: string;
  event: AnyCloudEvent;
}

export interface OutboxRecord extends OutboxMessage {
  seq: number;
}

export type NewWorkflow = Pick<Workflow, 'id' | 'description' | 'priority' | 'metadata' | 'idempotencyKey'> & {
  createdAt: string;
};

export interface WorkflowQuery {
  status?: WorkflowStatus;
  limit: number;
  offset: number;
}

export interface WorkflowStore {
  /** Applies the versioned SQL migrations (idempotent). */
  migrate(): Promise<void>;
  /** Creates a pending workflow with its outbox, or returns the one already made for the idempotency key. */
  createWorkflow(input: NewWorkflow, outbox: OutboxMessage[]): Promise<{ workflow: Workflow; created: boolean }>;
  getWorkflow(id: string): Promise<Workflow | null>;
  listWorkflows(query: WorkflowQuery): Promise<Workflow[]>;
  countActiveWorkflows(): Promise<number>;
  getSubtasks(workflowId: string): Promise<Subtask[]>;
  getSubtask(id: string): Promise<Subtask | null>;
  /**
   * Ready, unassigned subtasks of running workflows: work waiting for capacity. Re-runs come first
   * (work lost with an agent has waited longest), then the longest waiting.
   */
  findWaitingSubtasks(specialties: readonly Specialty[], limit: number): Promise<Subtask[]>;
  /** In-progress subtasks whose deadline passed before `now` (ms). */
  findOverdueSubtasks(now: number, limit: number): Promise<Subtask[]>;
  /** In-progress subtasks held by an agent. */
  findSubtasksByAgent(agentId: string): Promise<Subtask[]>;
  hasProcessed(consumer: string, eventId: string): Promise<boolean>;
  /** Atomic: all patches, inserts, the idempotency mark and the outbox, or nothing. */
  commit(change: StateChange): Promise<'applied' | 'duplicate'>;
  pendingOutbox(limit: number): Promise<OutboxRecord[]>;
  markPublished(seqs: number[]): Promise<void>;
  /**
   * Publishes pending rows in commit order through `publish`, then marks them, while holding a
   * lock that makes this the only relay draining: returns how many rows went out, or 'busy' when
   * another relay holds the lock.
   */
  drainOutbox(limit: number, publish: (rows: OutboxRecord[]) => Promise<void>): Promise<number | 'busy'>;
  close(): Promise<void>;
}
