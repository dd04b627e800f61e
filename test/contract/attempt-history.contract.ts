import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Subtask, SubtaskPatch } from '../../shared/domain/workflow.js';
import type { WorkflowStore } from '../../shared/ports/workflow-store.port.js';

type Make = () => Promise<{ store: WorkflowStore; cleanup: () => Promise<void> }>;

const T0 = '2024-05-01T10:00:00.000Z';

const subtask = (id: string, extra: Partial<Subtask> = {}): Subtask => ({
  id,
  workflowId: 'wf',
  title: `subtask ${id}`,
  description: 'do it',
  specialty: 'data_analyst',
  phase: 'analysis',
  estimatedMinutes: 5,
  priority: 5,
  dependsOn: [],
  successCriteria: [],
  qualityCheckpoints: [],
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
  updatedAt: T0,
  ...extra,
});

const lowQuality = 'quality 0.4 below threshold 0.85';

/**
 * The attempt history migration 9's trigger keeps, driven by the very patches the handlers commit
 * (assign, dispatch, complete's re-run / pass / fail, resume's hand-back, cancel), so it holds for
 * every process that commits: PostgreSQL and PGlite alike.
 */
export function attemptHistoryContract(name: string, make: Make): void {
  describe(`attempt history: ${name}`, () => {
    let store: WorkflowStore;
    let cleanup: () => Promise<void>;
    let n = 0;

    beforeEach(async () => {
      ({ store, cleanup } = await make());
      await store.migrate();
      await store.createWorkflow({ id: 'wf', description: 'd', priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: T0 }, []);
      await store.commit({
        consumer: 'seed',
        eventId: 'seed',
        insertSubtasks: [subtask('s1'), subtask('s2'), subtask('s3')],
        workflowUpdates: [{ id: 'wf', expectedVersion: 1, patch: { status: 'running' } }],
      });
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Commits one patch of a subtask at its current version, as a handler's commit does. */
    const apply = async (id: string, patch: SubtaskPatch) => {
      const current = await store.getSubtask(id);
      expect(await store.commit({ consumer: 'test', eventId: `e${++n}`, subtaskUpdates: [{ id, expectedVersion: current!.version, patch }] })).toBe('applied');
    };
    const assign = (id: string, agent: string) => apply(id, { assignedAgent: agent });
    const dispatch = async (id: string, token: number) =>
      apply(id, { status: 'in_progress', attempts: (await store.getSubtask(id))!.attempts + 1, leaseToken: token, deadline: T0 });
    const rerun = (id: string, quality: number | null, reason: string) =>
      apply(id, { quality, status: 'ready', assignedAgent: null, leaseToken: null, deadline: null, lastError: reason });
    const attemptsOf = async (id: string) => (await store.getAttempts('wf')).filter((a) => a.subtaskId === id);

    it('a subtask failing once then passing shows two attempts, the second with the reason of the re-run', async () => {
      await assign('s1', 'agent-a');
      expect(await attemptsOf('s1')).toMatchObject([{ attempt: 1, agentId: 'agent-a', status: 'assigned', leaseToken: null, reason: null, startedAt: null }]);
      await dispatch('s1', 7);
      await rerun('s1', 0.4, lowQuality);
      await assign('s1', 'agent-b');
      await dispatch('s1', 8);
      await apply('s1', { status: 'completed', quality: 0.95, output: { text: 'done' }, lastError: null });

      const [first, second, ...rest] = await attemptsOf('s1');
      expect(rest).toEqual([]);
      expect(first).toMatchObject({ attempt: 1, agentId: 'agent-a', leaseToken: 7, status: 'failed', quality: 0.4, error: lowQuality, reason: null });
      expect(second).toMatchObject({ attempt: 2, agentId: 'agent-b', leaseToken: 8, status: 'completed', quality: 0.95, error: null, reason: lowQuality });
      for (const a of [first!, second!]) {
        expect(Date.parse(a.assignedAt!)).toBeLessThanOrEqual(Date.parse(a.startedAt!));
        expect(Date.parse(a.startedAt!)).toBeLessThanOrEqual(Date.parse(a.endedAt!));
        expect(a.durationMs).toBe(Date.parse(a.endedAt!) - Date.parse(a.startedAt!));
      }
      expect(Date.parse(first!.endedAt!)).toBeLessThanOrEqual(Date.parse(second!.assignedAt!));
    });

    it('a timeout, a last failure, an assignment handed back, a cancel and a quality-gate re-run each leave their trace', async () => {
      // s2: times out (a failure carries no quality), then fails for good on its second attempt.
      await assign('s2', 'agent-a');
      await dispatch('s2', 1);
      await rerun('s2', null, 'timeout: deadline passed');
      await assign('s2', 'agent-gone');
      await apply('s2', { assignedAgent: null }); // resume hands an undispatched assignment back
      expect(await attemptsOf('s2')).toHaveLength(1);
      await assign('s2', 'agent-b');
      await dispatch('s2', 2);
      await apply('s2', { quality: null, status: 'failed', lastError: 'agent_lost: no heartbeat (after 2 attempts)' });
      expect(await attemptsOf('s2')).toMatchObject([
        { attempt: 1, agentId: 'agent-a', status: 'failed', quality: null, error: 'timeout: deadline passed', reason: null },
        {
          attempt: 2,
          agentId: 'agent-b',
          status: 'failed',
          quality: null,
          error: 'agent_lost: no heartbeat (after 2 attempts)',
          reason: 'timeout: deadline passed',
        },
      ]);

      // s1 passes, then a quality gate sends it back: its next attempt says why.
      await assign('s1', 'agent-a');
      await dispatch('s1', 3);
      await apply('s1', { status: 'completed', quality: 0.9, output: 'x', lastError: null });
      await apply('s1', {
        status: 'ready',
        assignedAgent: null,
        leaseToken: null,
        deadline: null,
        lastError: 'quality gate analysis_accuracy scored 0.800 below 0.85',
      });
      await assign('s1', 'agent-c');
      // s3 runs; a cancel stops it and the assigned s1 (an older quality is not this attempt's).
      await assign('s3', 'agent-a');
      await dispatch('s3', 4);
      await apply('s3', { quality: 0.3 });
      await apply('s3', { status: 'cancelled', lastError: 'cancelled by user' });
      await apply('s1', { status: 'cancelled', lastError: 'cancelled by user' });

      const all = await store.getAttempts('wf');
      expect(all.map((a) => `${a.subtaskId}#${a.attempt}`)).toEqual(['s1#1', 's1#2', 's2#1', 's2#2', 's3#1']);
      expect(all[0]).toMatchObject({ status: 'completed', quality: 0.9 });
      expect(all[1]).toMatchObject({
        agentId: 'agent-c',
        status: 'cancelled',
        error: 'cancelled by user',
        reason: 'quality gate analysis_accuracy scored 0.800 below 0.85',
        startedAt: null,
        durationMs: null,
      });
      expect(all[4]).toMatchObject({ status: 'cancelled', quality: null, error: 'cancelled by user' });
      expect(all[4]!.endedAt).not.toBeNull();
      expect(await store.getAttempts('other')).toEqual([]);
    });
  });
}
