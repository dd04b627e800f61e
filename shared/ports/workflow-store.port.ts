import type { AnyCloudEvent } from '../events/envelope.js';
import type { Subtask, SubtaskPatch, Workflow, WorkflowPatch } from '../domain/workflow.js';
import type { WorkflowStatus } from '../domain/vocabulary.js';
import type { Specialty } from '../domain/vocabulary.js';
import type { WaitingOrder } from '../domain/scheduling.js';
import type { SubtaskAttempt } from '../api/attempts.js';

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
  /** Commit only while this workflow is in this status (else a ConcurrencyConflictError: re-read). */
  requireWorkflowStatus?: { id: string; status: WorkflowStatus };
  /** Commit only while every row the handler read is still at the version it read (else a ConcurrencyConflictError: re-read). */
  expectVersions?: ExpectedVersion[];
}

/** A row a handler read, at the version it read it. */
export interface ExpectedVersion {
  table: 'workflows' | 'subtasks';
  id: string;
  version: number;
}

export interface OutboxMessage {
  topic: string;
  key: string;
  event: AnyCloudEvent;
}

/** A topic and the consumer (function) whose processed_events marks tell which of its events were read. */
export interface OutboxConsumer {
  topic: string;
  consumer: string;
}

export interface OutboxRecord extends OutboxMessage {
  seq: number;
}

/** A commit whose outbox rows the caller publishes itself: their seqs, to mark them once sent. */
export type ClaimedCommit = { status: 'applied'; outbox: OutboxRecord[] } | { status: 'duplicate' };

/** Which subtasks of the event's workflow a handler reads: none, the event's own, or all of them. */
export type SnapshotScope = { subtasks: 'none' } | { subtasks: 'one'; subtaskId: string } | { subtasks: 'all' };

/** What a handler reads for one event, in one round trip, with whether the event was processed already. */
export interface EventSnapshot {
  processed: boolean;
  workflow: Workflow | null;
  /** Ordered as getSubtasks orders them; null when the scope asked for none. */
  subtasks: Subtask[] | null;
}

export type NewWorkflow = Pick<Workflow, 'id' | 'description' | 'priority' | 'metadata' | 'idempotencyKey'> & {
  createdAt: string;
  /** Default 'default' (defaultTenant). */
  tenant?: string;
};

export interface WorkflowQuery {
  status?: WorkflowStatus;
  limit: number;
  offset: number;
  /** Only this tenant's workflows (the caller's scope). */
  tenant?: string;
  /** Only those whose metadata.submittedBy is this subject (a submitter reads its own). */
  submittedBy?: string;
}

export interface WorkflowStore {
  /** Applies the versioned SQL migrations (idempotent). */
  migrate(): Promise<void>;
  /** Creates a pending workflow with its outbox, or returns the one already made for the idempotency key. */
  createWorkflow(input: NewWorkflow, outbox: OutboxMessage[]): Promise<{ workflow: Workflow; created: boolean }>;
  getWorkflow(id: string): Promise<Workflow | null>;
  /** The workflows of these ids that exist, in no particular order (one read for many rows). */
  getWorkflowsById(ids: readonly string[]): Promise<Workflow[]>;
  listWorkflows(query: WorkflowQuery): Promise<Workflow[]>;
  /** How many workflows the query's status filter matches (its page aside). */
  countWorkflows(query: Pick<WorkflowQuery, 'status' | 'tenant' | 'submittedBy'>): Promise<number>;
  /** Active workflows of every tenant, or of one. */
  countActiveWorkflows(tenant?: string): Promise<number>;
  getSubtasks(workflowId: string): Promise<Subtask[]>;
  getSubtask(id: string): Promise<Subtask | null>;
  /** The subtasks of these ids that exist, in no particular order (one read for many rows). */
  getSubtasksById(ids: readonly string[]): Promise<Subtask[]>;
  /** Every attempt of the workflow's subtasks (agent, token, outcome, why it re-ran), subtask by subtask in plan order. */
  getAttempts(workflowId: string): Promise<SubtaskAttempt[]>;
  /**
   * Ready, unassigned subtasks of running workflows: work waiting for capacity, the one to take the
   * next free slot first (WaitingOrder: aged workflow priority, then re-runs, tenant fairness, age).
   */
  findWaitingSubtasks(specialties: readonly Specialty[], limit: number, order: WaitingOrder): Promise<Subtask[]>;
  /** In-progress subtasks whose deadline passed before `now` (ms). */
  findOverdueSubtasks(now: number, limit: number): Promise<Subtask[]>;
  /** In-progress subtasks last changed before `changedBefore` (ms), the longest unchanged first. */
  findLongRunningSubtasks(changedBefore: number, limit: number): Promise<Subtask[]>;
  /** In-progress subtasks held by an agent. */
  findSubtasksByAgent(agentId: string): Promise<Subtask[]>;
  hasProcessed(consumer: string, eventId: string): Promise<boolean>;
  /** hasProcessed, getWorkflow and getSubtask(s) of one workflow, read together (one consistent snapshot). */
  readForEvent(consumer: string, eventId: string, workflowId: string, scope: SnapshotScope): Promise<EventSnapshot>;
  /** Atomic: all patches, inserts, the idempotency mark and the outbox, or nothing. */
  commit(change: StateChange): Promise<'applied' | 'duplicate'>;
  /**
   * `commit`, with the outbox rows claimed for `claimMs` by the caller, who publishes them right
   * away and marks them; the relay publishes them only if the claim lapses (the caller crashed or
   * could not publish).
   */
  commitClaimed(change: StateChange, claimMs: number): Promise<ClaimedCommit>;
  /** Unpublished rows in commit order, claimed or not. */
  pendingOutbox(limit: number): Promise<OutboxRecord[]>;
  markPublished(seqs: number[]): Promise<void>;
  /**
   * Published rows after `afterSeq`, in commit order, of active workflows, on the topics given with
   * the consumer that reads each, that consumer has not processed: what an in-process bus lost with
   * the process that published them (resume after a restart).
   */
  unconsumedOutbox(consumers: readonly OutboxConsumer[], afterSeq: number, limit: number): Promise<OutboxRecord[]>;
  /**
   * Publishes pending rows no one has claimed (or whose claim lapsed) in commit order through `publish`, then marks them, while holding a
   * lock that makes this the only relay draining: returns how many rows went out, or 'busy' when
   * another relay holds the lock.
   */
  drainOutbox(limit: number, publish: (rows: OutboxRecord[]) => Promise<void>): Promise<number | 'busy'>;
  close(): Promise<void>;
}
