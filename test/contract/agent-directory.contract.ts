import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Layer, Specialty } from '../../shared/domain/vocabulary.js';
import type { AgentDirectory, AgentRegistration } from '../../shared/ports/agent-directory.port.js';

const agent = (id: string, layer: Layer, specialties: Specialty[], capacity = 2): AgentRegistration => ({
  id,
  layer,
  specialties,
  capacity,
  demo: true,
});
const success = { success: true, quality: 0.8, durationMs: 1_000 };
const failure = { success: false, quality: 0.4, durationMs: 3_000 };

/**
 * The behaviour every AgentDirectory adapter must show. `make` returns an EMPTY directory without a
 * per-agent task cap (counts are asserted exactly). Times are plain numbers passed by the caller.
 * `load` is a count of reserved tasks; a layer's `averageLoad` is the mean of load / capacity.
 */
export function agentDirectoryContract(name: string, make: () => Promise<{ subject: AgentDirectory; cleanup: () => Promise<void> }>): void {
  describe(`AgentDirectory contract: ${name}`, () => {
    let directory: AgentDirectory;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ subject: directory, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('registers, gets, lists by id and finds candidates by specialty', async () => {
      await directory.register(agent('c', 'SPECIALIST', ['data_analyst']), 100);
      const a = await directory.register(agent('a', 'SPECIALIST', ['data_analyst', 'statistical_modeler'], 3), 200);
      await directory.register(agent('b', 'SPECIALIST', ['statistical_modeler']), 300);
      expect(a).toMatchObject({ id: 'a', status: 'AVAILABLE', load: 0, completed: 0, failed: 0, consecutiveFailures: 0 });
      expect(a).toMatchObject({ capacity: 3, registeredAt: 200, lastHeartbeat: 200, specialties: ['data_analyst', 'statistical_modeler'] });
      expect(await directory.get('a')).toEqual(a);
      expect(await directory.get('missing')).toBeNull();
      expect((await directory.list()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
      expect((await directory.candidates('data_analyst')).map((r) => r.id)).toEqual(['a', 'c']);
      expect(await directory.candidates('security_analyst')).toEqual([]);
    });

    it('lists and offers candidates in code-unit id order, whatever the case or punctuation', async () => {
      for (const [i, id] of ['b', 'a_1', 'B3', 'a-2'].entries()) await directory.register(agent(id, 'SPECIALIST', ['data_analyst']), i);
      // Not locale order (which would put a_1 before a-2 and b before B3): every adapter sorts as Cypher's ORDER BY and DynamoDB's key order do.
      expect((await directory.list()).map((r) => r.id)).toEqual(['B3', 'a-2', 'a_1', 'b']);
      expect((await directory.candidates('data_analyst')).map((r) => r.id)).toEqual(['B3', 'a-2', 'a_1', 'b']);
    });

    it('reserves up to capacity, idempotently per work key', async () => {
      await directory.register(agent('a', 'SPECIALIST', ['data_analyst'], 2), 0);
      expect(await directory.reserve('a', 'w1')).toBe(true);
      expect(await directory.reserve('a', 'w1')).toBe(true);
      expect((await directory.get('a'))!.load).toBe(1);
      expect(await directory.reserve('a', 'w2')).toBe(true);
      expect(await directory.reserve('a', 'w3')).toBe(false);
      expect(await directory.reserve('a', 'w2')).toBe(true);
      await directory.release('a', 'w1');
      expect(await directory.reserve('a', 'w3')).toBe(true);
      expect((await directory.get('a'))!.load).toBe(2);
      expect(await directory.reserve('missing', 'w1')).toBe(false);
    });

    it('lists every held slot by agent and work key; a second release of one is a no-op', async () => {
      await directory.register(agent('a', 'SPECIALIST', ['data_analyst'], 3), 0);
      await directory.register(agent('b', 'SPECIALIST', ['data_analyst'], 3), 0);
      await directory.register(agent('idle', 'SPECIALIST', ['data_analyst'], 3), 0);
      expect(await directory.heldWork()).toEqual([]);
      await directory.reserve('a', 's1#1');
      await directory.reserve('a', 's2#1');
      await directory.reserve('b', 's3#2');
      const sorted = (held: { agentId: string; workKey: string }[]) =>
        [...held].sort((x, y) => `${x.agentId} ${x.workKey}`.localeCompare(`${y.agentId} ${y.workKey}`));
      expect(sorted(await directory.heldWork())).toEqual([
        { agentId: 'a', workKey: 's1#1' },
        { agentId: 'a', workKey: 's2#1' },
        { agentId: 'b', workKey: 's3#2' },
      ]);
      await directory.release('a', 's1#1', success);
      await directory.release('a', 's1#1');
      await directory.release('a', 's1#1', success);
      expect(await directory.get('a')).toMatchObject({ load: 1, completed: 1 });
      expect(sorted(await directory.heldWork())).toEqual([
        { agentId: 'a', workKey: 's2#1' },
        { agentId: 'b', workKey: 's3#2' },
      ]);
    });

    it('records an outcome once per work key, with running averages', async () => {
      await directory.register(agent('a', 'SPECIALIST', ['data_analyst'], 3), 0);
      await directory.reserve('a', 'w1');
      await directory.release('a', 'w1', success);
      await directory.release('a', 'w1', failure);
      expect(await directory.get('a')).toMatchObject({ load: 0, completed: 1, failed: 0, averageQuality: 0.8 });
      await directory.reserve('a', 'w2');
      await directory.release('a', 'w2', failure);
      const after = (await directory.get('a'))!;
      expect(after).toMatchObject({ completed: 1, failed: 1, consecutiveFailures: 1 });
      expect(after.averageQuality).toBeCloseTo(0.6);
      expect(after.averageDurationMs).toBeCloseTo(2_000);
      await directory.reserve('a', 'w3');
      await directory.release('a', 'w3', success);
      expect(await directory.get('a')).toMatchObject({ completed: 2, failed: 1, consecutiveFailures: 0 });
    });

    it('derives status from load unless set to FAILED, OFFLINE or MAINTENANCE', async () => {
      await directory.register(agent('a', 'SPECIALIST', ['data_analyst'], 2), 0);
      const status = async () => (await directory.get('a'))!.status;
      await directory.reserve('a', 'w1');
      expect(await status()).toBe('BUSY');
      await directory.reserve('a', 'w2');
      expect(await status()).toBe('OVERLOADED');
      await directory.release('a', 'w2');
      expect(await status()).toBe('BUSY');
      await directory.setStatus('a', 'FAILED');
      expect(await status()).toBe('FAILED');
      expect(await directory.reserve('a', 'w3')).toBe(false);
      await directory.release('a', 'w1');
      expect(await status()).toBe('FAILED');
      await directory.setStatus('a', 'MAINTENANCE');
      expect(await status()).toBe('MAINTENANCE');
      await directory.setStatus('a', 'AVAILABLE');
      expect(await status()).toBe('AVAILABLE');
      await directory.heartbeat('a', 5_000);
      expect((await directory.get('a'))!.lastHeartbeat).toBe(5_000);
    });

    it('lifts OFFLINE when the agent heartbeats or registers again; FAILED and MAINTENANCE stay', async () => {
      await directory.register(agent('a', 'SPECIALIST', ['data_analyst'], 2), 0);
      await directory.register(agent('b', 'SPECIALIST', ['data_analyst'], 2), 0);
      await directory.register(agent('c', 'SPECIALIST', ['data_analyst'], 2), 0);
      for (const id of ['a', 'b']) await directory.setStatus(id, 'OFFLINE');
      await directory.setStatus('c', 'MAINTENANCE');
      expect(await directory.reserve('a', 'w1')).toBe(false);
      await directory.heartbeat('a', 1_000);
      expect((await directory.get('a'))!.status).toBe('AVAILABLE');
      expect(await directory.reserve('a', 'w1')).toBe(true);
      await directory.register(agent('b', 'SPECIALIST', ['data_analyst'], 2), 2_000);
      expect((await directory.get('b'))!.status).toBe('AVAILABLE');
      expect(await directory.reserve('b', 'w2')).toBe(true);
      await directory.heartbeat('c', 3_000);
      await directory.register(agent('c', 'SPECIALIST', ['data_analyst'], 2), 3_000);
      expect((await directory.get('c'))!.status).toBe('MAINTENANCE');
      expect(await directory.reserve('c', 'w3')).toBe(false);
    });

    // A directory may cache look-ups (ORCHESTRATION_ENABLE_CACHE), but never so that it hides its own writes.
    it('answers candidates and the group lead with its own writes applied at once', async () => {
      const seen = async () => (await directory.candidates('data_analyst')).map((r) => `${r.id}:${r.load}:${r.status}:${r.lastHeartbeat}:${r.completed}`);
      await directory.register(agent('a', 'SPECIALIST', ['data_analyst'], 2), 0);
      expect(await seen()).toEqual(['a:0:AVAILABLE:0:0']);
      await directory.reserve('a', 'w1');
      expect(await seen()).toEqual(['a:1:BUSY:0:0']);
      await directory.reserve('a', 'w2');
      expect(await seen()).toEqual(['a:2:OVERLOADED:0:0']);
      await directory.release('a', 'w1', success);
      expect(await seen()).toEqual(['a:1:BUSY:0:1']);
      await directory.heartbeat('a', 7_000);
      await directory.setStatus('a', 'FAILED');
      expect(await seen()).toEqual(['a:1:FAILED:7000:1']);
      await directory.register(agent('b', 'SPECIALIST', ['data_analyst'], 2), 8_000);
      expect(await seen()).toEqual(['a:1:FAILED:7000:1', 'b:0:AVAILABLE:8000:0']);
      if (!directory.leadFor) return;
      await directory.register({ ...agent('lead-x', 'MANAGEMENT', []), role: 'research_team_lead' }, 0);
      expect((await directory.leadFor('research'))?.id).toBe('lead-x');
      await directory.register({ ...agent('lead-y', 'MANAGEMENT', []), role: 'research_team_lead' }, 0);
      await directory.reserve('lead-x', 'w1');
      expect((await directory.leadFor('research'))?.id).toBe('lead-y');
      await directory.setStatus('lead-y', 'MAINTENANCE');
      expect((await directory.leadFor('research'))?.id).toBe('lead-x');
    });

    it("keeps an agent's tenant and finds a tenant's candidates among its own and the shared agents only", async () => {
      await directory.register({ ...agent('acme-1', 'SPECIALIST', ['data_analyst']), tenant: 'acme' }, 0);
      await directory.register({ ...agent('beta-1', 'SPECIALIST', ['data_analyst']), tenant: 'beta' }, 0);
      await directory.register(agent('shared-1', 'SPECIALIST', ['data_analyst']), 0);
      await directory.register({ ...agent('acme-2', 'SPECIALIST', ['statistical_modeler']), tenant: 'acme' }, 0);
      const ids = async (tenant?: string) => (await directory.candidates('data_analyst', tenant)).map((r) => r.id);
      expect(await ids()).toEqual(['acme-1', 'beta-1', 'shared-1']);
      expect(await ids('acme')).toEqual(['acme-1', 'shared-1']);
      expect(await ids('beta')).toEqual(['beta-1', 'shared-1']);
      expect(await ids('gamma')).toEqual(['shared-1']);
      expect((await directory.get('acme-1'))?.tenant).toBe('acme');
      expect((await directory.get('shared-1'))?.tenant).toBeUndefined();
      expect((await directory.list()).map((r) => `${r.id}:${r.tenant ?? '-'}`)).toEqual(['acme-1:acme', 'acme-2:acme', 'beta-1:beta', 'shared-1:-']);
      // A tenant's view follows reservations and re-registrations at once (with or without a read cache).
      await directory.reserve('shared-1', 'w1');
      expect((await directory.candidates('data_analyst', 'acme')).map((r) => `${r.id}:${r.load}`)).toEqual(['acme-1:0', 'shared-1:1']);
      await directory.register(agent('beta-1', 'SPECIALIST', ['data_analyst']), 10);
      expect((await directory.get('beta-1'))?.tenant).toBeUndefined();
      expect(await ids('acme')).toEqual(['acme-1', 'beta-1', 'shared-1']);
      await directory.register({ ...agent('shared-1', 'SPECIALIST', ['data_analyst']), tenant: 'beta' }, 20);
      expect(await ids('acme')).toEqual(['acme-1', 'beta-1']);
      expect((await directory.get('shared-1'))?.load).toBe(1);
    });

    it('counts agents spawned into a pool since a time', async () => {
      await directory.register(agent('r1', 'SPECIALIST', ['academic_researcher']), 1_000);
      await directory.register(agent('r2', 'SPECIALIST', ['web_intelligence_gatherer']), 2_000);
      await directory.register(agent('r3', 'SPECIALIST', ['academic_researcher']), 3_000);
      await directory.register(agent('n1', 'SPECIALIST', ['data_analyst']), 2_500);
      expect(await directory.spawnedSince('research', 2_000)).toBe(2);
      expect(await directory.spawnedSince('analysis', 0)).toBe(1);
      expect(await directory.spawnedSince('qa', 0)).toBe(0);
    });

    it('summarises the hierarchy per layer, pool, health and load', async () => {
      const now = 10_000;
      await directory.register(agent('e1', 'EXECUTIVE', [], 5), 9_500);
      await directory.register(agent('m1', 'MANAGEMENT', [], 5), 9_500);
      await directory.register(agent('s1', 'SPECIALIST', ['academic_researcher']), 9_500);
      await directory.register(agent('s2', 'SPECIALIST', ['web_intelligence_gatherer']), 9_500);
      await directory.register(agent('s3', 'SPECIALIST', ['data_analyst']), 9_500);
      await directory.register(agent('s4', 'SPECIALIST', ['statistical_modeler']), 9_500);
      await directory.register(agent('s5', 'SPECIALIST', ['data_analyst']), 5_000);
      await directory.register(agent('x1', 'EXECUTION', ['code_reviewer_optimizer'], 4), 9_500);
      await directory.reserve('s1', 'w1');
      await directory.reserve('s1', 'w2');
      await directory.reserve('s2', 'w1');
      await directory.setStatus('s3', 'FAILED');
      await directory.reserve('s4', 'w1');
      await directory.release('s4', 'w1', failure);
      await directory.setStatus('x1', 'OFFLINE');

      const status = await directory.hierarchyStatus(now, 1_000);
      expect(status.totalAgents).toBe(8);
      expect(status.health).toEqual({ healthy: 4, degraded: 2, failed: 1, offline: 1 });
      expect(status.load).toEqual({ available: 4, busy: 1, overloaded: 1 });
      expect(status.layers.EXECUTIVE).toEqual({ count: 1, available: 1, averageLoad: 0 });
      expect(status.layers.MANAGEMENT).toEqual({ count: 1, available: 1, averageLoad: 0 });
      expect(status.layers.SPECIALIST).toMatchObject({ count: 5, available: 2 });
      expect(status.layers.SPECIALIST.averageLoad).toBeCloseTo(0.3);
      expect(status.layers.EXECUTION).toEqual({ count: 1, available: 0, averageLoad: 0 });
      expect(status.pools.research).toEqual({ count: 2, load: 3, capacity: 4 });
      expect(status.pools.analysis).toEqual({ count: 3, load: 0, capacity: 6 });
      expect(status.pools.technical).toEqual({ count: 1, load: 0, capacity: 4 });
      expect(status.pools.qa).toEqual({ count: 0, load: 0, capacity: 0 });
    });

    it('answers the hierarchy: supervisor, the group lead (an available one first), and who worked on what', async () => {
      if (!directory.supervisorOf || !directory.leadFor || !directory.recordWork || !directory.workOf)
        throw new Error(`${name} does not implement the hierarchy`);
      await directory.register({ ...agent('lead-b', 'MANAGEMENT', []), role: 'analysis_team_lead' }, 0);
      await directory.register({ ...agent('lead-a', 'MANAGEMENT', []), role: 'analysis_team_lead' }, 0);
      await directory.register({ ...agent('qa-lead', 'MANAGEMENT', []), role: 'qa_team_lead' }, 0);
      await directory.register({ ...agent('s1', 'SPECIALIST', ['data_analyst']), supervisorId: 'lead-a' }, 0);
      await directory.register(agent('loner', 'SPECIALIST', ['data_analyst']), 0);
      expect((await directory.supervisorOf('s1'))?.id).toBe('lead-a');
      expect(await directory.supervisorOf('loner')).toBeNull();
      expect((await directory.leadFor('analysis'))?.id).toBe('lead-a');
      await directory.setStatus('lead-a', 'MAINTENANCE');
      expect((await directory.leadFor('analysis'))?.id).toBe('lead-b');
      expect((await directory.leadFor('qa'))?.id).toBe('qa-lead');
      expect(await directory.leadFor('creative')).toBeNull();

      expect(await directory.recordWork('s1', 'st-2', 'wf-1', failure, 20)).toBe(true);
      expect(await directory.recordWork('s1', 'st-1', 'wf-1', success, 10)).toBe(true);
      expect(await directory.recordWork('s1', 'st-1', 'wf-1', failure, 30)).toBe(false);
      expect(await directory.workOf('s1')).toEqual([
        { subtaskId: 'st-1', workflowId: 'wf-1', ...success, at: 10 },
        { subtaskId: 'st-2', workflowId: 'wf-1', ...failure, at: 20 },
      ]);
      expect(await directory.workOf('loner')).toEqual([]);
    });

    it("records lineage: each attempt's output, by which agent, and the subtasks each one built on", async () => {
      if (!directory.recordWork || !directory.lineageOf || !directory.workOf) throw new Error(`${name} does not implement lineage`);
      await directory.register(agent('s1', 'SPECIALIST', ['data_analyst']), 0);
      await directory.register(agent('s2', 'SPECIALIST', ['data_analyst']), 0);
      // wf-1: research r, then analysis a on r (fails below the threshold on s1, passes on s2), then report p on both.
      expect(await directory.recordWork('s1', 'r', 'wf-1', success, 10, { attempt: 1, dependsOn: [], produced: true })).toBe(true);
      expect(await directory.recordWork('s1', 'a', 'wf-1', failure, 20, { attempt: 1, dependsOn: ['r'], produced: true })).toBe(true);
      expect(await directory.recordWork('s2', 'a', 'wf-1', success, 30, { attempt: 2, dependsOn: ['r'], produced: true })).toBe(true);
      // The same agent again on a later attempt: no new WORKED_ON, but a new output.
      expect(await directory.recordWork('s1', 'p', 'wf-1', failure, 40, { attempt: 1, dependsOn: ['r', 'a'], produced: false })).toBe(true);
      expect(await directory.recordWork('s1', 'p', 'wf-1', success, 50, { attempt: 2, dependsOn: ['a', 'r'], produced: true })).toBe(true);
      // A redelivered result records nothing more.
      expect(await directory.recordWork('s1', 'p', 'wf-1', success, 60, { attempt: 2, dependsOn: ['a', 'r'], produced: true })).toBe(false);
      // Another workflow's work stays out of wf-1's lineage.
      await directory.recordWork('s2', 'x', 'wf-2', success, 70, { attempt: 1, dependsOn: [], produced: true });

      const output = (subtaskId: string, attempt: number, agentId: string, outcome: typeof success, at: number) => ({
        id: `${subtaskId}#${attempt}`,
        subtaskId,
        attempt,
        agentId,
        ...outcome,
        at,
      });
      expect(await directory.lineageOf('wf-1')).toEqual({
        subtasks: [
          { id: 'a', dependsOn: ['r'] },
          { id: 'p', dependsOn: ['a', 'r'] },
          { id: 'r', dependsOn: [] },
        ],
        outputs: [
          output('a', 1, 's1', failure, 20),
          output('a', 2, 's2', success, 30),
          // p's first attempt reported a failure: it produced nothing.
          output('p', 2, 's1', success, 50),
          output('r', 1, 's1', success, 10),
        ],
      });
      expect((await directory.lineageOf('wf-2')).outputs.map((o) => o.id)).toEqual(['x#1']);
      expect(await directory.lineageOf('unknown')).toEqual({ subtasks: [], outputs: [] });
      // WORKED_ON stays one edge per agent and subtask, whatever the attempts.
      expect((await directory.workOf('s1')).map((w) => w.subtaskId)).toEqual(['r', 'a', 'p']);
    });
  });
}
