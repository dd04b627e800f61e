import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WaitingOrder } from '../../shared/domain/scheduling.js';
import type { Plan, Subtask } from '../../shared/domain/workflow.js';
import { ConcurrencyConflictError } from '../../shared/errors.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { ClaimedCommit, NewWorkflow, OutboxMessage, StateChange, WorkflowStore } from '../../shared/ports/workflow-store.port.js';

type Make = () => Promise<{ store: WorkflowStore; cleanup: () => Promise<void> }>;

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const minute = (minutes: number) => T0 + minutes * 60_000;

/** Ranked as of 10 minutes after T0, well within one aging period: by priority, re-runs, tenant share and age. */
const waitingOrder = (options: Partial<WaitingOrder> = {}): WaitingOrder => ({ now: minute(10), agingSeconds: 3_600, tenantWeights: {}, ...options });

const newWorkflow = (id: string, extra: Partial<NewWorkflow> = {}): NewWorkflow => ({
  id,
  description: `workflow ${id}`,
  priority: 'NORMAL',
  metadata: {},
  idempotencyKey: null,
  createdAt: at(0),
  ...extra,
});

const event = (id: string, data: unknown = { n: 1 }): AnyCloudEvent => ({
  specversion: '1.0',
  id,
  source: '/contract',
  type: 'test.happened',
  time: at(0),
  workflowid: 'wf',
  data,
});
const message = (id: string): OutboxMessage => ({ topic: 'amas.test', key: 'wf', event: event(id) });

const subtask = (id: string, workflowId: string, extra: Partial<Subtask> = {}): Subtask => ({
  id,
  workflowId,
  title: `subtask ${id}`,
  description: 'do it',
  specialty: 'data_analyst',
  phase: 'analysis',
  estimatedMinutes: 12.5,
  priority: 5,
  dependsOn: [],
  successCriteria: ['correct'],
  qualityCheckpoints: ['reviewed'],
  reviewRequired: false,
  status: 'ready',
  assignedAgent: null,
  attempts: 0,
  leaseToken: null,
  deadline: null,
  quality: null,
  output: null,
  lastError: null,
  version: 1,
  updatedAt: at(1),
  ...extra,
});

const plan: Plan = {
  complexity: 'MODERATE',
  confidence: 0.75,
  patterns: ['fan-out'],
  subtasks: [],
  phases: [{ phase: 'analysis', subtaskIds: ['s1'] }],
  estimatedHours: 1.5,
  estimatedCost: 0,
  requiredSpecialists: ['data_analyst'],
  qualityGates: [{ name: 'analysis_accuracy', phase: 'analysis', threshold: 0.85 }],
  risk: 'low',
  approvalRequired: false,
};

export function workflowStoreContract(name: string, make: Make): void {
  describe(`WorkflowStore contract: ${name}`, () => {
    let store: WorkflowStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await make());
      await store.migrate();
    });
    afterEach(async () => {
      await cleanup();
    });

    /** A running workflow holding the given subtasks (workflow version 2 afterwards). */
    async function running(id: string, subtasks: Subtask[] = [], createdAt = at(0), workflow: Partial<NewWorkflow> = {}) {
      await store.createWorkflow(newWorkflow(id, { createdAt, ...workflow }), []);
      const change: StateChange = {
        consumer: 'seed',
        eventId: `seed-${id}`,
        insertSubtasks: subtasks,
        workflowUpdates: [{ id, expectedVersion: 1, patch: { status: 'running' } }],
      };
      expect(await store.commit(change)).toBe('applied');
    }

    const allPending = () => store.pendingOutbox(1000);

    it('migrate() again is harmless and keeps the data', async () => {
      await store.createWorkflow(newWorkflow('wf-1'), []);
      await store.migrate();
      await store.migrate();
      expect(await store.getWorkflow('wf-1')).not.toBeNull();
    });

    it('creates a pending workflow at version 1 with its outbox', async () => {
      const metadata = { team: 'a', nested: { list: [1, 'two', null, true], n: 1.5 } };
      const { workflow, created } = await store.createWorkflow(newWorkflow('wf-1', { metadata, priority: 'HIGH', idempotencyKey: 'k-1' }), [
        message('e1'),
        message('e2'),
      ]);
      expect(created).toBe(true);
      expect(workflow).toEqual({
        id: 'wf-1',
        description: 'workflow wf-1',
        priority: 'HIGH',
        tenant: 'default',
        metadata,
        idempotencyKey: 'k-1',
        status: 'pending',
        complexity: null,
        plan: null,
        failureReason: null,
        usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
        version: 1,
        createdAt: at(0),
        updatedAt: at(0),
        completedAt: null,
      });
      expect(await store.getWorkflow('wf-1')).toEqual(workflow);
      expect(await store.getWorkflow('missing')).toBeNull();
      const outbox = await allPending();
      expect(outbox.map((r) => r.event)).toEqual([event('e1'), event('e2')]);
      expect(outbox[0]).toMatchObject({ topic: 'amas.test', key: 'wf' });
    });

    it('returns the existing workflow for a repeated idempotency key and writes nothing', async () => {
      const first = await store.createWorkflow(newWorkflow('wf-1', { idempotencyKey: 'k' }), [message('e1')]);
      const again = await store.createWorkflow(newWorkflow('wf-2', { idempotencyKey: 'k' }), [message('e2')]);
      expect(again).toEqual({ workflow: first.workflow, created: false });
      expect(await store.getWorkflow('wf-2')).toBeNull();
      expect((await allPending()).map((r) => r.event.id)).toEqual(['e1']);
    });

    it('two concurrent creates with one idempotency key make one workflow', async () => {
      const results = await Promise.all(['wf-a', 'wf-b', 'wf-c'].map((id) => store.createWorkflow(newWorkflow(id, { idempotencyKey: 'same' }), [message(id)])));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.workflow.id)).size).toBe(1);
      expect(await store.listWorkflows({ limit: 10, offset: 0 })).toHaveLength(1);
      expect(await allPending()).toHaveLength(1);
    });

    it('writes neither the workflow nor its outbox when the insert fails', async () => {
      await store.createWorkflow(newWorkflow('wf-1'), [message('e1')]);
      await expect(store.createWorkflow(newWorkflow('wf-1', { description: 'again' }), [message('e2'), message('e3')])).rejects.toThrow();
      expect((await store.getWorkflow('wf-1'))!.description).toBe('workflow wf-1');
      expect((await allPending()).map((r) => r.event.id)).toEqual(['e1']);
    });

    it('workflows without an idempotency key never collide', async () => {
      await store.createWorkflow(newWorkflow('wf-1'), []);
      const second = await store.createWorkflow(newWorkflow('wf-2'), []);
      expect(second.created).toBe(true);
    });

    it('lists newest first, filters by status, paginates and counts the active ones', async () => {
      for (let i = 0; i < 5; i++) await store.createWorkflow(newWorkflow(`wf-${i}`, { createdAt: at(i) }), []);
      await store.commit({
        consumer: 'c',
        eventId: 'e',
        workflowUpdates: [
          { id: 'wf-1', expectedVersion: 1, patch: { status: 'running' } },
          { id: 'wf-3', expectedVersion: 1, patch: { status: 'completed', completedAt: at(9) } },
        ],
      });
      const ids = async (q: Parameters<WorkflowStore['listWorkflows']>[0]) => (await store.listWorkflows(q)).map((w) => w.id);
      expect(await ids({ limit: 10, offset: 0 })).toEqual(['wf-4', 'wf-3', 'wf-2', 'wf-1', 'wf-0']);
      expect(await ids({ limit: 2, offset: 1 })).toEqual(['wf-3', 'wf-2']);
      expect(await ids({ limit: 10, offset: 5 })).toEqual([]);
      expect(await ids({ status: 'pending', limit: 10, offset: 0 })).toEqual(['wf-4', 'wf-2', 'wf-0']);
      expect(await ids({ status: 'pending', limit: 1, offset: 1 })).toEqual(['wf-2']);
      expect(await ids({ status: 'failed', limit: 10, offset: 0 })).toEqual([]);
      expect(await store.countActiveWorkflows()).toBe(4);
      expect(await store.countWorkflows({})).toBe(5);
      expect(await store.countWorkflows({ status: 'pending' })).toBe(3);
      expect(await store.countWorkflows({ status: 'failed' })).toBe(0);
    });

    it('commit applies inserts, versioned patches, the idempotency mark and the outbox together', async () => {
      await store.createWorkflow(newWorkflow('wf-1'), []);
      const output = { summary: 'ok', rows: [{ a: 1 }, { b: [true, null] }], ratio: 0.25 };
      const result = await store.commit({
        consumer: 'planner',
        eventId: 'evt-1',
        insertSubtasks: [subtask('s1', 'wf-1'), subtask('s2', 'wf-1', { dependsOn: ['s1'], status: 'pending' })],
        workflowUpdates: [{ id: 'wf-1', expectedVersion: 1, patch: { status: 'running', complexity: 'MODERATE', plan } }],
        outbox: [message('out-1')],
      });
      expect(result).toBe('applied');
      expect(await store.hasProcessed('planner', 'evt-1')).toBe(true);
      expect(await store.getWorkflow('wf-1')).toMatchObject({ status: 'running', complexity: 'MODERATE', plan, version: 2 });
      expect(await store.getSubtasks('wf-1')).toEqual([subtask('s1', 'wf-1'), subtask('s2', 'wf-1', { dependsOn: ['s1'], status: 'pending' })]);
      expect((await allPending()).map((r) => r.event.id)).toEqual(['out-1']);

      const deadline = at(30);
      await store.commit({
        consumer: 'dispatcher',
        eventId: 'evt-2',
        subtaskUpdates: [{ id: 's1', expectedVersion: 1, patch: { status: 'in_progress', assignedAgent: 'ag-1', attempts: 1, leaseToken: 7, deadline } }],
      });
      await store.commit({
        consumer: 'collector',
        eventId: 'evt-3',
        subtaskUpdates: [{ id: 's1', expectedVersion: 2, patch: { status: 'completed', quality: 0.93, output } }],
      });
      const s1 = await store.getSubtask('s1');
      expect(s1).toMatchObject({ status: 'completed', assignedAgent: 'ag-1', attempts: 1, leaseToken: 7, deadline, quality: 0.93, output, version: 3 });
      expect(Date.parse(s1?.updatedAt ?? '')).not.toBeNaN();
      expect(await store.getSubtask('missing')).toBeNull();
      expect(await store.getSubtasks('missing')).toEqual([]);
    });

    it('patches can set a nullable field back to null and store scalar outputs', async () => {
      await running('wf-1', [subtask('s1', 'wf-1')]);
      await store.commit({
        consumer: 'c',
        eventId: 'e1',
        workflowUpdates: [{ id: 'wf-1', expectedVersion: 2, patch: { failureReason: 'boom', completedAt: at(5) } }],
        subtaskUpdates: [{ id: 's1', expectedVersion: 1, patch: { output: 'plain text', lastError: 'x' } }],
      });
      expect(await store.getSubtask('s1')).toMatchObject({ output: 'plain text', lastError: 'x' });
      await store.commit({
        consumer: 'c',
        eventId: 'e2',
        workflowUpdates: [{ id: 'wf-1', expectedVersion: 3, patch: { failureReason: null, completedAt: null } }],
        subtaskUpdates: [{ id: 's1', expectedVersion: 2, patch: { output: [1, 2], lastError: null } }],
      });
      expect(await store.getWorkflow('wf-1')).toMatchObject({ failureReason: null, completedAt: null, version: 4 });
      expect(await store.getSubtask('s1')).toMatchObject({ output: [1, 2], lastError: null });
    });

    it('stores what a workflow spent; a later patch without usage keeps it (alone and in a group)', async () => {
      await running('wf-1');
      await running('wf-2');
      const spent = { inputTokens: 1_200, outputTokens: 340, costUsd: 0.0042 };
      await store.commit({ consumer: 'c', eventId: 'u1', workflowUpdates: [{ id: 'wf-1', expectedVersion: 2, patch: { usage: spent } }] });
      await Promise.all([
        store.commit({ consumer: 'c', eventId: 'u2', workflowUpdates: [{ id: 'wf-1', expectedVersion: 3, patch: { status: 'completed' } }] }),
        store.commit({ consumer: 'c', eventId: 'u3', workflowUpdates: [{ id: 'wf-2', expectedVersion: 2, patch: { usage: { ...spent, costUsd: 1.5 } } }] }),
      ]);
      expect(await store.getWorkflow('wf-1')).toMatchObject({ status: 'completed', usage: spent, version: 4 });
      expect(await store.getWorkflow('wf-2')).toMatchObject({ status: 'running', usage: { ...spent, costUsd: 1.5 }, version: 3 });
    });

    it('a repeated (consumer, eventId) is a no-op; another consumer of the same event is not', async () => {
      await running('wf-1', [subtask('s1', 'wf-1')]);
      const change = (consumer: string): StateChange => ({
        consumer,
        eventId: 'evt-1',
        subtaskUpdates: [{ id: 's1', expectedVersion: 1, patch: { attempts: 1 } }],
        outbox: [message(`out-${consumer}`)],
      });
      expect(await store.commit(change('a'))).toBe('applied');
      expect(await store.commit(change('a'))).toBe('duplicate');
      expect(await store.getSubtask('s1')).toMatchObject({ attempts: 1, version: 2 });
      expect(await store.hasProcessed('b', 'evt-1')).toBe(false);
      await expect(store.commit(change('b'))).rejects.toBeInstanceOf(ConcurrencyConflictError);
      const b = { ...change('b'), subtaskUpdates: [{ id: 's1', expectedVersion: 2, patch: { attempts: 2 } }] };
      expect(await store.commit(b)).toBe('applied');
      expect((await allPending()).map((r) => r.event.id)).toEqual(['out-a', 'out-b']);
    });

    it('a version conflict throws a retriable error and writes nothing at all', async () => {
      await running('wf-1', [subtask('s1', 'wf-1')]);
      const stale: StateChange = {
        consumer: 'c',
        eventId: 'evt-stale',
        insertSubtasks: [subtask('s2', 'wf-1')],
        workflowUpdates: [{ id: 'wf-1', expectedVersion: 2, patch: { status: 'paused' } }],
        subtaskUpdates: [{ id: 's1', expectedVersion: 5, patch: { status: 'failed' } }],
        outbox: [message('never')],
      };
      const error = await store.commit(stale).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect((error as ConcurrencyConflictError).retriable).toBe(true);
      expect(await store.getSubtask('s2')).toBeNull();
      expect(await store.getWorkflow('wf-1')).toMatchObject({ status: 'running', version: 2 });
      expect(await store.getSubtask('s1')).toMatchObject({ status: 'ready', version: 1 });
      expect(await store.hasProcessed('c', 'evt-stale')).toBe(false);
      expect(await allPending()).toEqual([]);
      await expect(store.commit({ consumer: 'c', eventId: 'e2', workflowUpdates: [{ id: 'nope', expectedVersion: 1, patch: {} }] })).rejects.toBeInstanceOf(
        ConcurrencyConflictError,
      );
    });

    it('a commit requiring its workflow to be running conflicts, writing nothing, once the workflow is paused', async () => {
      await running('wf-1', [subtask('s1', 'wf-1'), subtask('s2', 'wf-1')]);
      const dispatchOf = (id: string): StateChange => ({
        consumer: 'dispatch',
        eventId: `dispatch-${id}`,
        subtaskUpdates: [{ id, expectedVersion: 1, patch: { status: 'in_progress', attempts: 1 } }],
        outbox: [message(`dispatched-${id}`)],
        requireWorkflowStatus: { id: 'wf-1', status: 'running' },
      });
      expect(await store.commit(dispatchOf('s1'))).toBe('applied');
      expect(
        await store.commit({ consumer: 'api', eventId: 'pause', workflowUpdates: [{ id: 'wf-1', expectedVersion: 2, patch: { status: 'paused' } }] }),
      ).toBe('applied');
      const error = await store.commit(dispatchOf('s2')).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect((error as Error).message).toMatch(/wf-1 is paused, not running/);
      expect(await store.getSubtask('s2')).toMatchObject({ status: 'ready', version: 1 });
      expect(await store.hasProcessed('dispatch', 'dispatch-s2')).toBe(false);
      expect((await allPending()).map((r) => r.event.id)).toEqual(['dispatched-s1']);
      await expect(store.commit({ ...dispatchOf('s2'), requireWorkflowStatus: { id: 'wf-nope', status: 'running' } })).rejects.toBeInstanceOf(
        ConcurrencyConflictError,
      );
    });

    it('a commit expecting the versions its handler read conflicts, writing nothing, once a row it only read moved (alone and in a group)', async () => {
      await running('wf-1', [subtask('s1', 'wf-1'), subtask('s2', 'wf-1')]);
      const assignOf = (id: string, workflowVersion: number): StateChange => ({
        consumer: 'assign',
        eventId: `assign-${id}`,
        subtaskUpdates: [{ id, expectedVersion: 1, patch: { assignedAgent: 'ag-1' } }],
        outbox: [message(`assigned-${id}`)],
        expectVersions: [
          { table: 'workflows', id: 'wf-1', version: workflowVersion },
          { table: 'subtasks', id, version: 1 },
        ],
      });
      const [first, other] = await Promise.all([
        store.commit(assignOf('s1', 2)),
        store.commit({ consumer: 'c', eventId: 'other', subtaskUpdates: [{ id: 's2', expectedVersion: 1, patch: { quality: 0.5 } }] }),
      ]);
      expect([first, other]).toEqual(['applied', 'applied']);
      expect(
        await store.commit({ consumer: 'api', eventId: 'pause', workflowUpdates: [{ id: 'wf-1', expectedVersion: 2, patch: { status: 'paused' } }] }),
      ).toBe('applied');
      // s2 is patched at its own version: only the read-set check sees that the workflow (read, not patched) moved.
      const error = await store.commit({ ...assignOf('s2', 2), subtaskUpdates: [{ id: 's2', expectedVersion: 2, patch: { assignedAgent: 'ag-1' } }] }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect((error as Error).message).toMatch(/workflows wf-1 is no longer at version 2/);
      expect(await store.getSubtask('s2')).toMatchObject({ assignedAgent: null, version: 2 });
      expect(await store.hasProcessed('assign', 'assign-s2')).toBe(false);
      expect((await allPending()).map((r) => r.event.id)).toEqual(['assigned-s1']);
      await expect(store.commit({ ...assignOf('s2', 3), expectVersions: [{ table: 'subtasks', id: 'nope', version: 1 }] })).rejects.toBeInstanceOf(
        ConcurrencyConflictError,
      );
      // Already processed: the redelivered change conflicts or is a duplicate, never applied twice.
      const again = await store.commit(assignOf('s1', 3)).then(
        (status) => status,
        (e: unknown) => e,
      );
      expect(again === 'duplicate' || again instanceof ConcurrencyConflictError).toBe(true);
      expect(await store.getSubtask('s1')).toMatchObject({ assignedAgent: 'ag-1', version: 2 });
    });

    it('of two concurrent commits from the same version exactly one wins', async () => {
      await running('wf-1', [subtask('s1', 'wf-1')]);
      const claim = (agent: string): StateChange => ({
        consumer: 'dispatcher',
        eventId: `claim-${agent}`,
        subtaskUpdates: [{ id: 's1', expectedVersion: 1, patch: { status: 'in_progress', assignedAgent: agent } }],
        outbox: [message(`assigned-${agent}`)],
      });
      const results = await Promise.allSettled(['ag-1', 'ag-2', 'ag-3'].map((agent) => store.commit(claim(agent))));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.every((r) => r.reason instanceof ConcurrencyConflictError)).toBe(true);
      const s1 = await store.getSubtask('s1');
      expect(s1?.version).toBe(2);
      expect((await allPending()).map((r) => r.event.id)).toEqual([`assigned-${s1?.assignedAgent}`]);
    });

    it('commits made at once (one group) each get the outcome they would get alone, in call order', async () => {
      await running('wf-1', [subtask('s1', 'wf-1'), subtask('s2', 'wf-1')]);
      await running('wf-2', [subtask('t1', 'wf-2')]);
      await store.commit({ consumer: 'c', eventId: 'seen' });
      const patch = (eventId: string, id: string, expectedVersion: number, agent: string, extra: Partial<StateChange> = {}): StateChange => ({
        consumer: 'c',
        eventId,
        subtaskUpdates: [{ id, expectedVersion, patch: { assignedAgent: agent } }],
        outbox: [message(`${eventId}-a`), message(`${eventId}-b`)],
        ...extra,
      });
      const outcomes = await Promise.allSettled([
        store.commitClaimed(patch('e1', 's1', 1, 'ag-1'), 60_000),
        // Read s1 at version 1 too, but called after e1: e1's write moved it on.
        store.commit(patch('e2', 's1', 1, 'ag-2')),
        // Read s1 after e1: version 2.
        store.commit(patch('e3', 's1', 2, 'ag-3')),
        store.commit({ consumer: 'c', eventId: 'seen', outbox: [message('never')] }),
        store.commitClaimed(patch('e4', 't1', 1, 'ag-4', { requireWorkflowStatus: { id: 'wf-2', status: 'running' } }), 60_000),
        store.commit(patch('e5', 's2', 1, 'ag-5', { requireWorkflowStatus: { id: 'wf-1', status: 'paused' } })),
        store.commit(patch('e6', 'nope', 1, 'ag-6')),
        // The same event twice in one group: the second is a duplicate.
        store.commit(patch('e1', 's1', 2, 'ag-7')),
        store.commit({ consumer: 'c', eventId: 'e7', insertSubtasks: [subtask('s3', 'wf-1')], outbox: [message('e7-a')] }),
      ]);
      const value = (i: number) => (outcomes[i] as PromiseFulfilledResult<unknown>).value;
      const reason = (i: number) => (outcomes[i] as PromiseRejectedResult).reason;
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      for (const i of [1, 5, 6]) expect(reason(i)).toBeInstanceOf(ConcurrencyConflictError);
      expect(String(reason(5))).toContain('not paused');
      expect([value(2), value(3), value(7), value(8)]).toEqual(['applied', 'duplicate', 'duplicate', 'applied']);
      const claimed = value(0) as ClaimedCommit & { status: 'applied' };
      const claimed4 = value(4) as ClaimedCommit & { status: 'applied' };
      expect(claimed.outbox.map((r) => r.event.id)).toEqual(['e1-a', 'e1-b']);
      expect(claimed4.outbox.map((r) => r.event.id)).toEqual(['e4-a', 'e4-b']);
      // Seqs are the rows' own: they mark exactly those rows.
      const pending = await allPending();
      const seqOf = new Map(pending.map((r) => [r.event.id, r.seq]));
      expect([...claimed.outbox, ...claimed4.outbox].map((r) => r.seq)).toEqual(['e1-a', 'e1-b', 'e4-a', 'e4-b'].map((id) => seqOf.get(id)));
      expect(pending.map((r) => r.event.id).sort()).toEqual(['e1-a', 'e1-b', 'e3-a', 'e3-b', 'e4-a', 'e4-b', 'e7-a'].sort());
      expect(await store.getSubtask('s1')).toMatchObject({ assignedAgent: 'ag-3', version: 3 });
      expect(await store.getSubtask('s2')).toMatchObject({ assignedAgent: null, version: 1 });
      expect(await store.getSubtask('t1')).toMatchObject({ assignedAgent: 'ag-4', version: 2 });
      expect((await store.getSubtasks('wf-1')).map((s) => s.id)).toEqual(['s1', 's2', 's3']);
      // Claimed rows stay with their committer; the relay sends only the others.
      const relayed: string[] = [];
      await store.drainOutbox(100, async (rows) => void relayed.push(...rows.map((r) => r.event.id)));
      expect(relayed.sort()).toEqual(['e3-a', 'e3-b', 'e7-a']);
    });

    it('serves the outbox in order and forgets what was published', async () => {
      await store.createWorkflow(newWorkflow('wf-1'), [message('a'), message('b')]);
      await store.commit({ consumer: 'c', eventId: 'e', outbox: [message('c'), message('d')] });
      const pending = await allPending();
      expect(pending.map((r) => r.event.id)).toEqual(['a', 'b', 'c', 'd']);
      const seqs = pending.map((r) => r.seq);
      expect(seqs.every((s) => typeof s === 'number')).toBe(true);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect((await store.pendingOutbox(2)).map((r) => r.event.id)).toEqual(['a', 'b']);
      await store.markPublished([]);
      await store.markPublished([seqs[0] as number, seqs[2] as number]);
      expect((await allPending()).map((r) => r.event.id)).toEqual(['b', 'd']);
      await store.markPublished(seqs);
      expect(await allPending()).toEqual([]);
    });

    it('drains the outbox through one relay at a time: each row sent once, in order; a failed publish keeps rows', async () => {
      await store.createWorkflow(
        newWorkflow('wf-1'),
        ['a', 'b', 'c', 'd', 'e'].map((id) => message(id)),
      );
      await expect(store.drainOutbox(10, async () => Promise.reject(new Error('broker down')))).rejects.toThrow('broker down');
      expect((await allPending()).map((r) => r.event.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
      const sent: string[] = [];
      const publish = async (rows: { event: { id: string } }[]) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        sent.push(...rows.map((r) => r.event.id));
      };
      const drainAll = async () => {
        let sent: number | 'busy';
        while ((sent = await store.drainOutbox(2, publish)) !== 0) {
          if (sent === 'busy') await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      await Promise.all([drainAll(), drainAll(), drainAll()]);
      expect(sent).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await allPending()).toEqual([]);
    });

    it('commitClaimed returns the outbox seqs; the relay leaves claimed rows alone until the claim lapses', async () => {
      await store.createWorkflow(newWorkflow('wf-1'), [message('unclaimed')]);
      const committed = await store.commitClaimed({ consumer: 'c', eventId: 'e1', outbox: [message('x'), message('y')] }, 60_000);
      if (committed.status !== 'applied') throw new Error('expected applied');
      expect(committed.outbox.map((r) => r.event.id)).toEqual(['x', 'y']);
      const pending = await allPending();
      expect(pending.map((r) => r.event.id)).toEqual(['unclaimed', 'x', 'y']);
      expect(committed.outbox.map((r) => r.seq)).toEqual(pending.slice(1).map((r) => r.seq));
      expect(await store.commitClaimed({ consumer: 'c', eventId: 'e1', outbox: [message('again')] }, 60_000)).toEqual({ status: 'duplicate' });

      const sent: string[] = [];
      const publish = async (rows: { event: { id: string } }[]) => void sent.push(...rows.map((r) => r.event.id));
      expect(await store.drainOutbox(10, publish)).toBe(1);
      expect(sent).toEqual(['unclaimed']);
      await store.markPublished(committed.outbox.map((r) => r.seq));
      expect(await allPending()).toEqual([]);

      // A committer that never published (crashed): once its claim lapses the relay sends the rows.
      await store.commitClaimed({ consumer: 'c', eventId: 'e2', outbox: [message('orphan')] }, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.drainOutbox(10, publish)).toBe(1);
      expect(sent).toEqual(['unclaimed', 'orphan']);
    });

    it('readForEvent reads the processed mark, the workflow and the asked-for subtasks together', async () => {
      await running('wf-1', [
        subtask('s1', 'wf-1'),
        subtask('s2', 'wf-1', { dependsOn: ['s1'], status: 'pending', output: { a: [1, null] }, leaseToken: 1_700_000_000_000_123, deadline: at(9) }),
      ]);
      const workflow = await store.getWorkflow('wf-1');
      const all = await store.readForEvent('c', 'e1', 'wf-1', { subtasks: 'all' });
      expect(all).toEqual({ processed: false, workflow, subtasks: await store.getSubtasks('wf-1') });
      expect(await store.readForEvent('c', 'e1', 'wf-1', { subtasks: 'one', subtaskId: 's2' })).toEqual({
        processed: false,
        workflow,
        subtasks: [await store.getSubtask('s2')],
      });
      expect(await store.readForEvent('c', 'e1', 'wf-1', { subtasks: 'none' })).toEqual({ processed: false, workflow, subtasks: null });
      expect(await store.readForEvent('c', 'e1', 'missing', { subtasks: 'all' })).toEqual({ processed: false, workflow: null, subtasks: [] });
      await store.commit({ consumer: 'c', eventId: 'e1' });
      expect((await store.readForEvent('c', 'e1', 'wf-1', { subtasks: 'none' })).processed).toBe(true);
      expect((await store.readForEvent('other', 'e1', 'wf-1', { subtasks: 'none' })).processed).toBe(false);
    });

    it('finds waiting subtasks: ready, unassigned, of running workflows, by specialty, re-runs then oldest first', async () => {
      await running('wf-1', [
        subtask('s1', 'wf-1', { updatedAt: at(1) }),
        subtask('s2', 'wf-1', { updatedAt: at(2), specialty: 'content_writer_editor', phase: 'production' }),
        subtask('s3', 'wf-1', { updatedAt: at(3), assignedAgent: 'ag-1' }),
        subtask('s4', 'wf-1', { updatedAt: at(4), status: 'pending' }),
        subtask('s5', 'wf-1', { updatedAt: at(5) }),
      ]);
      await store.createWorkflow(newWorkflow('wf-pending'), []);
      await store.commit({ consumer: 'seed', eventId: 'p', insertSubtasks: [subtask('p1', 'wf-pending', { updatedAt: at(0) })] });
      const ids = async (specialties: Parameters<WorkflowStore['findWaitingSubtasks']>[0], limit = 10) =>
        (await store.findWaitingSubtasks(specialties, limit, waitingOrder())).map((s) => s.id);
      expect(await ids(['data_analyst'])).toEqual(['s1', 's5']);
      expect(await ids(['data_analyst', 'content_writer_editor'])).toEqual(['s1', 's2', 's5']);
      expect(await ids(['data_analyst', 'content_writer_editor'], 2)).toEqual(['s1', 's2']);
      expect(await ids(['security_analyst'])).toEqual([]);
      expect(await ids([])).toEqual([]);
      // A re-run (work lost with an agent) goes before work that has not run yet.
      await running('wf-2', [subtask('r1', 'wf-2', { updatedAt: at(9), attempts: 1 })]);
      expect(await ids(['data_analyst'])).toEqual(['r1', 's1', 's5']);
    });

    describe('waiting work is ranked by aged priority, then re-runs, then tenant share, then age', () => {
      const analyst = (id: string, workflowId: string, minute: number, extra: Partial<Subtask> = {}) =>
        subtask(id, workflowId, { updatedAt: at(minute), ...extra });
      const held = (id: string, workflowId: string, specialty: Subtask['specialty'] = 'data_analyst') =>
        subtask(id, workflowId, { status: 'in_progress', assignedAgent: 'ag-1', specialty, phase: specialty === 'data_analyst' ? 'analysis' : 'production' });
      const order = async (options: Partial<WaitingOrder> = {}) =>
        (await store.findWaitingSubtasks(['data_analyst'], 20, waitingOrder(options))).map((s) => s.id);

      it('stores each workflow\'s tenant, "default" when none is given', async () => {
        await store.createWorkflow(newWorkflow('wf-a', { tenant: 'acme' }), []);
        await store.createWorkflow(newWorkflow('wf-d'), []);
        expect((await store.getWorkflow('wf-a'))?.tenant).toBe('acme');
        expect((await store.getWorkflow('wf-d'))?.tenant).toBe('default');
      });

      it('higher workflow priority first, however long the lower waited within one aging period', async () => {
        const priorities = ['LOW', 'NORMAL', 'HIGH', 'URGENT', 'CRITICAL'] as const;
        for (const [i, priority] of priorities.entries()) await running(`wf-${priority}`, [analyst(priority, `wf-${priority}`, i)], at(0), { priority });
        expect(await order({ now: minute(6), agingSeconds: 3_600 })).toEqual(['CRITICAL', 'URGENT', 'HIGH', 'NORMAL', 'LOW']);
      });

      it('aging: a LOW subtask gains a rank per aging period, overtakes fresh NORMAL and HIGH work, and rises no higher than CRITICAL', async () => {
        await running('wf-low', [analyst('low', 'wf-low', 0)], at(0), { priority: 'LOW' });
        await running('wf-normal', [analyst('normal', 'wf-normal', 30)], at(0), { priority: 'NORMAL' });
        const now = minute(30);
        expect(await order({ now, agingSeconds: 3_600 })).toEqual(['normal', 'low']); // waited less than a period
        expect(await order({ now, agingSeconds: 1_800 })).toEqual(['low', 'normal']); // one period: NORMAL's rank, and older
        await running('wf-high', [analyst('high', 'wf-high', 30)], at(0), { priority: 'HIGH' });
        expect(await order({ now, agingSeconds: 1_800 })).toEqual(['high', 'low', 'normal']);
        expect(await order({ now, agingSeconds: 600 })).toEqual(['low', 'high', 'normal']); // three periods: LOW + 3 > HIGH
        await running('wf-critical', [analyst('critical', 'wf-critical', 20)], at(0), { priority: 'CRITICAL' });
        // Thirty periods would lift LOW far past CRITICAL; capped there, it ties and the longer waiting goes first.
        expect(await order({ now, agingSeconds: 60 })).toEqual(['low', 'critical', 'high', 'normal']);
        expect(await order({ now, agingSeconds: 600 })).toEqual(['critical', 'low', 'high', 'normal']);
      });

      it('a re-run keeps its precedence within equal priority, but not over higher priority', async () => {
        await running('wf-n', [analyst('fresh', 'wf-n', 0), analyst('rerun', 'wf-n', 5, { attempts: 1 })]);
        await running('wf-h', [analyst('high', 'wf-h', 8)], at(0), { priority: 'HIGH' });
        expect(await order({ now: minute(9), agingSeconds: 3_600 })).toEqual(['high', 'rerun', 'fresh']);
      });

      it('within a rank, the tenant holding fewer slots of the specialties for its weight goes first', async () => {
        await running('wf-a', [analyst('a-old', 'wf-a', 1), held('a-run-1', 'wf-a'), held('a-run-2', 'wf-a')], at(0), { tenant: 'a' });
        // b runs three writer subtasks: slots of another specialty do not count against it here.
        await running(
          'wf-b',
          [
            analyst('b-new', 'wf-b', 5),
            held('b-w1', 'wf-b', 'content_writer_editor'),
            held('b-w2', 'wf-b', 'content_writer_editor'),
            held('b-w3', 'wf-b', 'content_writer_editor'),
          ],
          at(0),
          { tenant: 'b' },
        );
        const now = minute(6);
        expect(await order({ now })).toEqual(['b-new', 'a-old']);
        await running('wf-b2', [held('b-run', 'wf-b2')], at(0), { tenant: 'b' });
        expect(await order({ now })).toEqual(['b-new', 'a-old']); // a holds 2, b 1
        expect(await order({ now, tenantWeights: { a: 4 } })).toEqual(['a-old', 'b-new']); // 2/4 < 1/1
        expect(await order({ now, tenantWeights: { a: 2 } })).toEqual(['a-old', 'b-new']); // 2/2 = 1/1: the older
        expect(await order({ now, tenantWeights: { a: 1.5 } })).toEqual(['b-new', 'a-old']);
        // A slot left within the last aging period counts as used (with one slot, nobody holds it when it is granted); older ones do not.
        const left = (id: string, workflowId: string, minutes: number) =>
          subtask(id, workflowId, { status: 'completed', assignedAgent: 'ag-1', updatedAt: at(minutes) });
        await running('wf-a-old', [left('a-done-long-ago', 'wf-a-old', -61)], at(0), { tenant: 'a' });
        expect(await order({ now })).toEqual(['b-new', 'a-old']);
        await running('wf-b3', [left('b-done', 'wf-b3', 5.9)], at(0), { tenant: 'b' });
        expect(await order({ now })).toEqual(['a-old', 'b-new']); // 2 : 2, the older first
        expect(await order({ now, agingSeconds: 5 })).toEqual(['b-new', 'a-old']); // b-done left 6 s ago: outside a 5 s period
        // Priority and re-runs still come before the share.
        await running('wf-a-high', [analyst('a-high', 'wf-a-high', 5.5)], at(0), { tenant: 'a', priority: 'HIGH' });
        await running('wf-a-rerun', [analyst('a-rerun', 'wf-a-rerun', 5.8, { attempts: 2 })], at(0), { tenant: 'a' });
        expect(await order({ now })).toEqual(['a-high', 'a-rerun', 'a-old', 'b-new']);
      });

      it("with a tenant, only that tenant's waiting work (what a tenant's own agent may take)", async () => {
        await running('wf-a', [analyst('a1', 'wf-a', 3)], at(0), { tenant: 'a' });
        await running('wf-b', [analyst('b1', 'wf-b', 1), analyst('b2', 'wf-b', 2)], at(0), { tenant: 'b' });
        expect(await order({ now: minute(6) })).toEqual(['b1', 'b2', 'a1']);
        expect(await order({ now: minute(6), tenant: 'a' })).toEqual(['a1']);
        expect(await order({ now: minute(6), tenant: 'c' })).toEqual([]);
      });
    });

    it('finds overdue subtasks and the subtasks an agent holds', async () => {
      const busy = (id: string, agent: string, deadline: string | null, status: Subtask['status'] = 'in_progress') =>
        subtask(id, 'wf-1', { status, assignedAgent: agent, deadline });
      await running('wf-1', [
        busy('late', 'ag-1', at(10)),
        busy('later', 'ag-2', at(5)),
        busy('on-time', 'ag-1', at(30)),
        busy('no-deadline', 'ag-1', null),
        busy('done', 'ag-1', at(1), 'completed'),
      ]);
      const overdue = async (now: number, limit = 10) => (await store.findOverdueSubtasks(now, limit)).map((s) => s.id);
      expect(new Set(await overdue(T0 + 20 * 60_000))).toEqual(new Set(['late', 'later']));
      expect(await overdue(T0 + 20 * 60_000, 1)).toHaveLength(1);
      expect(await overdue(T0 + 10 * 60_000)).toEqual(['later']);
      expect(await overdue(T0)).toEqual([]);
      const held = async (agent: string) => (await store.findSubtasksByAgent(agent)).map((s) => s.id).sort();
      expect(await held('ag-1')).toEqual(['late', 'no-deadline', 'on-time']);
      expect(await held('ag-2')).toEqual(['later']);
      expect(await held('ag-9')).toEqual([]);
    });

    it('reads many subtasks and workflows by id in one call, skipping unknown ids', async () => {
      await running('wf-1', [subtask('a', 'wf-1'), subtask('b', 'wf-1'), subtask('c', 'wf-1')]);
      await running('wf-2', [subtask('d', 'wf-2')]);
      const ids = async (found: Promise<{ id: string }[]>) => (await found).map((row) => row.id).sort();
      expect(await ids(store.getSubtasksById(['d', 'a', 'missing', 'a']))).toEqual(['a', 'd']);
      expect(await store.getSubtasksById([])).toEqual([]);
      expect((await store.getSubtasksById(['b']))[0]).toEqual(await store.getSubtask('b'));
      expect(await ids(store.getWorkflowsById(['wf-2', 'wf-1', 'wf-9']))).toEqual(['wf-1', 'wf-2']);
      expect(await store.getWorkflowsById([])).toEqual([]);
      expect((await store.getWorkflowsById(['wf-1']))[0]).toEqual(await store.getWorkflow('wf-1'));
    });

    it('finds in-progress subtasks unchanged since a time, the longest unchanged first', async () => {
      const busy = (id: string, minute: number, status: Subtask['status'] = 'in_progress') =>
        subtask(id, 'wf-1', { status, assignedAgent: 'ag-1', leaseToken: 7, updatedAt: at(minute) });
      await running('wf-1', [busy('recent', 9), busy('oldest', 2), busy('old', 4), busy('ready-old', 1, 'ready'), busy('done-old', 1, 'completed')]);
      const longRunning = async (minutes: number, limit = 10) => (await store.findLongRunningSubtasks(T0 + minutes * 60_000, limit)).map((s) => s.id);
      expect(await longRunning(5)).toEqual(['oldest', 'old']);
      expect(await longRunning(5, 1)).toEqual(['oldest']);
      expect(await longRunning(10)).toEqual(['oldest', 'old', 'recent']);
      expect(await longRunning(2)).toEqual([]);
    });
  });
}
