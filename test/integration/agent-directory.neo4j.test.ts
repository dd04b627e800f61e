import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import type { Driver } from 'neo4j-driver';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { createNeo4jAgentDirectory } from '../../shared/adapters/neo4j/agent-directory.neo4j.js';
import type { Neo4jAgentDirectory } from '../../shared/adapters/neo4j/agent-directory.neo4j.js';
import { migrateAgentGraph } from '../../shared/adapters/neo4j/migrations.js';
import type { Layer, Specialty } from '../../shared/domain/vocabulary.js';
import { allSpecialties, layerSchema } from '../../shared/domain/vocabulary.js';
import type { AgentDirectory, AgentRegistration } from '../../shared/ports/agent-directory.port.js';
import { agentDirectoryContract } from '../contract/agent-directory.contract.js';

const url = process.env.NEO4J_URL ?? 'bolt://127.0.0.1:7687';
const freshNamespace = () => `amas-test-${randomUUID()}`;
let driver: Driver;

beforeAll(async () => {
  driver = neo4j.driver(url);
  await driver.verifyConnectivity();
  await migrateAgentGraph(driver);
});
afterAll(async () => {
  await driver.close();
});

agentDirectoryContract('neo4j', async () => {
  const subject = createNeo4jAgentDirectory(driver, { namespace: freshNamespace() });
  return { subject, cleanup: () => subject.clear() };
});

agentDirectoryContract('neo4j with its read cache', async () => {
  const subject = createNeo4jAgentDirectory(driver, { namespace: freshNamespace(), cacheTtlMs: 60_000 });
  return { subject, cleanup: () => subject.clear() };
});

const agent = (id: string, layer: Layer, specialties: Specialty[], extra: Partial<AgentRegistration> = {}): AgentRegistration => ({
  id,
  layer,
  specialties,
  capacity: 2,
  demo: false,
  ...extra,
});

describe('Neo4j agent directory', () => {
  let directory: Neo4jAgentDirectory;

  beforeEach(() => {
    directory = createNeo4jAgentDirectory(driver, { namespace: freshNamespace() });
  });
  afterEach(async () => {
    await directory.clear();
  });

  it('migrates idempotently, also when two processes migrate at once', async () => {
    await Promise.all([directory.migrate(), migrateAgentGraph(driver), directory.migrate()]);
    const { records } = await driver.executeQuery('SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names');
    expect(records[0]!.get('names')).toEqual(expect.arrayContaining(['agent_id', 'specialty_name', 'subtask_id', 'workflow_id']));
  });

  it('lets exactly one of two concurrent reserves take the last slot, across drivers', async () => {
    const other = neo4j.driver(url);
    try {
      const namespace = freshNamespace();
      const mine = createNeo4jAgentDirectory(driver, { namespace });
      const theirs = createNeo4jAgentDirectory(other, { namespace });
      for (let round = 0; round < 10; round += 1) {
        const id = `a${round}`;
        await mine.register(agent(id, 'SPECIALIST', ['data_analyst'], { capacity: 2 }), 0);
        expect(await mine.reserve(id, 'held')).toBe(true);
        const results = await Promise.all([mine.reserve(id, 'left'), theirs.reserve(id, 'right')]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await mine.get(id)).toMatchObject({ load: 2, status: 'OVERLOADED' });
      }
      await mine.clear();
    } finally {
      await other.close();
    }
  });

  it('grants exactly capacity slots to a burst of concurrent reserves, capped by maxTasksPerAgent', async () => {
    const capped = createNeo4jAgentDirectory(driver, { namespace: freshNamespace(), maxTasksPerAgent: 3 });
    try {
      await capped.register(agent('a', 'SPECIALIST', ['data_analyst'], { capacity: 5 }), 0);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => capped.reserve('a', `w${i}`)));
      expect(results.filter(Boolean)).toHaveLength(3);
      expect(await capped.get('a')).toMatchObject({ load: 3, status: 'OVERLOADED', capacity: 5 });
      expect((await capped.hierarchyStatus(0, 1_000)).pools.analysis).toEqual({ count: 1, load: 3, capacity: 3 });
    } finally {
      await capped.clear();
    }
  });

  it("with the read cache, another process's writes show within the TTL, and a stale candidate is refused at reserve", async () => {
    const namespace = freshNamespace();
    const cached = createNeo4jAgentDirectory(driver, { namespace, cacheTtlMs: 60_000 });
    const other = createNeo4jAgentDirectory(driver, { namespace });
    const statuses = async (d: AgentDirectory) => (await d.candidates('data_analyst')).map((r) => `${r.id}:${r.status}`);
    try {
      await cached.register(agent('a', 'SPECIALIST', ['data_analyst'], { capacity: 1 }), 0);
      await cached.register(agent('b', 'SPECIALIST', ['data_analyst'], { capacity: 1 }), 0);
      expect(await statuses(cached)).toEqual(['a:AVAILABLE', 'b:AVAILABLE']);
      await other.reserve('a', 'theirs');
      await other.setStatus('b', 'FAILED');
      expect(await statuses(cached)).toEqual(['a:AVAILABLE', 'b:AVAILABLE']); // stale, within the TTL
      // Reserve decides on the node itself; its answer also corrects the cached record.
      expect(await cached.reserve('a', 'mine')).toBe(false);
      expect(await cached.reserve('b', 'mine')).toBe(false);
      await other.release('a', 'theirs');
      // Nobody in the cached list looks free any more: the list is read again rather than answering "no capacity".
      expect(await statuses(cached)).toEqual(['a:AVAILABLE', 'b:FAILED']);
      expect(await cached.reserve('a', 'mine')).toBe(true);

      await cached.release('a', 'mine');
      const short = createNeo4jAgentDirectory(driver, { namespace, cacheTtlMs: 100 });
      expect(await statuses(short)).toEqual(['a:AVAILABLE', 'b:FAILED']);
      await other.register(agent('c', 'SPECIALIST', ['data_analyst']), 0);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(await statuses(short)).toEqual(['a:AVAILABLE', 'b:FAILED', 'c:AVAILABLE']); // never served past the TTL
    } finally {
      await cached.clear();
    }
  });

  it('with the read cache, re-reads a list whose free-looking agents have all stopped heartbeating', async () => {
    const namespace = freshNamespace();
    const cached = createNeo4jAgentDirectory(driver, { namespace, cacheTtlMs: 60_000, cacheHeartbeatTimeoutMs: 5_000 });
    const other = createNeo4jAgentDirectory(driver, { namespace });
    try {
      await cached.register(agent('lost', 'SPECIALIST', ['data_analyst']), Date.now() - 60_000);
      expect((await cached.candidates('data_analyst')).map((r) => r.id)).toEqual(['lost']);
      await other.register(agent('fresh', 'SPECIALIST', ['data_analyst']), Date.now());
      expect((await cached.candidates('data_analyst')).map((r) => r.id)).toEqual(['fresh', 'lost']);
    } finally {
      await cached.clear();
    }
  });

  it('follows REPORTS_TO up the chain, whichever end registered first', async () => {
    await directory.register(agent('x1', 'EXECUTION', [], { supervisorId: 's1', role: 'tool_manager' }), 0);
    await directory.register(agent('e1', 'EXECUTIVE', [], { role: 'task_coordinator' }), 0);
    await directory.register(agent('m1', 'MANAGEMENT', [], { supervisorId: 'e1', role: 'research_team_lead' }), 0);
    await directory.register(agent('s1', 'SPECIALIST', ['academic_researcher'], { supervisorId: 'm1' }), 0);
    expect(await directory.reportingChain('x1')).toEqual(['x1', 's1', 'm1', 'e1']);
    expect(await directory.reportingChain('e1')).toEqual(['e1']);
    expect(await directory.reportingChain('missing')).toEqual([]);
    expect((await directory.supervisorOf('s1'))?.id).toBe('m1');
    expect(await directory.supervisorOf('e1')).toBeNull();

    // Re-registering under another supervisor moves the edge rather than adding one.
    await directory.register(agent('m2', 'MANAGEMENT', [], { supervisorId: 'e1', role: 'analysis_team_lead' }), 0);
    await directory.register(agent('s1', 'SPECIALIST', ['academic_researcher'], { supervisorId: 'm2' }), 0);
    expect(await directory.reportingChain('x1')).toEqual(['x1', 's1', 'm2', 'e1']);
  });

  it('finds the management lead of a specialty group, preferring one that can take work', async () => {
    await directory.register(agent('lead-b', 'MANAGEMENT', [], { role: 'research_team_lead' }), 0);
    await directory.register(agent('lead-a', 'MANAGEMENT', [], { role: 'research_team_lead' }), 0);
    await directory.register(agent('lead-i', 'MANAGEMENT', [], { role: 'integration_team_lead' }), 0);
    await directory.register(agent('not-a-lead', 'SPECIALIST', ['academic_researcher'], { role: 'research_team_lead' }), 0);
    expect((await directory.leadFor('research'))?.id).toBe('lead-a');
    await directory.setStatus('lead-a', 'FAILED');
    expect((await directory.leadFor('research'))?.id).toBe('lead-b');
    expect((await directory.leadFor('investigation'))?.id).toBe('lead-i');
    expect(await directory.leadFor('qa')).toBeNull();
  });

  it('records WORKED_ON -> Subtask -> PART_OF -> Workflow once per agent and subtask', async () => {
    await directory.register(agent('a', 'SPECIALIST', ['data_analyst']), 0);
    expect(await directory.recordWork('a', 'st-1', 'wf-1', { success: true, quality: 0.9, durationMs: 1_200 }, 10)).toBe(true);
    expect(await directory.recordWork('a', 'st-1', 'wf-1', { success: false, quality: 0.1, durationMs: 1 }, 20)).toBe(false);
    expect(await directory.recordWork('a', 'st-2', 'wf-1', { success: false, quality: 0.3, durationMs: 500 }, 30)).toBe(true);
    await expect(directory.recordWork('ghost', 'st-3', 'wf-1', { success: true, quality: 1, durationMs: 1 }, 40)).rejects.toThrow(/not found/);
    expect(await directory.workOf('a')).toEqual([
      { subtaskId: 'st-1', workflowId: 'wf-1', success: true, quality: 0.9, durationMs: 1_200, at: 10 },
      { subtaskId: 'st-2', workflowId: 'wf-1', success: false, quality: 0.3, durationMs: 500, at: 30 },
    ]);
    const { records } = await driver.executeQuery(
      'MATCH (w:Workflow {id: "wf-1"})<-[:PART_OF]-(s:Subtask)<-[r:WORKED_ON]-(:Agent {id: "a"}) WHERE w.ns = s.ns RETURN count(r) AS n, collect(DISTINCT w.ns) AS ns',
    );
    expect(records[0]!.get('n').toNumber()).toBe(2);
    expect(records[0]!.get('ns')).toHaveLength(1);
  });

  it('keeps namespaces apart', async () => {
    const neighbour = createNeo4jAgentDirectory(driver, { namespace: freshNamespace() });
    await directory.register(agent('a', 'SPECIALIST', ['data_analyst']), 0);
    await neighbour.register(agent('a', 'SPECIALIST', ['data_analyst'], { capacity: 7 }), 0);
    await neighbour.reserve('a', 'w1');
    expect(await directory.get('a')).toMatchObject({ capacity: 2, load: 0 });
    expect(await directory.candidates('data_analyst')).toHaveLength(1);
    await neighbour.clear();
    expect(await neighbour.list()).toEqual([]);
    expect(await directory.list()).toHaveLength(1);
  });

  it('summarises 200 agents in 4 layers exactly as the memory adapter does', async () => {
    const memory = createMemoryAgentDirectory();
    const both = async (op: (d: AgentDirectory) => Promise<unknown>) => Promise.all([op(memory), op(directory)]);
    const layers = layerSchema.options;
    const registrations = Array.from({ length: 200 }, (_, i) => {
      const layer = layers[i % 4]!;
      const specialties = layer === 'SPECIALIST' || layer === 'EXECUTION' ? [allSpecialties[i % allSpecialties.length]!] : [];
      return { registration: agent(`ag-${String(i).padStart(3, '0')}`, layer, specialties, { capacity: 1 + (i % 4) }), at: 1_000 + i * 10 };
    });
    for (let i = 0; i < registrations.length; i += 20) {
      await Promise.all(registrations.slice(i, i + 20).map(({ registration, at }) => both((d) => d.register(registration, at))));
    }
    for (const [i, { registration }] of registrations.entries()) {
      if (i % 3 === 0) await both((d) => d.reserve(registration.id, 'w1'));
      if (i % 6 === 0) await both((d) => d.reserve(registration.id, 'w2'));
      if (i % 9 === 0) await both((d) => d.release(registration.id, 'w1', { success: i % 2 === 0, quality: 0.5, durationMs: 10 }));
      if (i % 17 === 0) await both((d) => d.setStatus(registration.id, i % 2 ? 'OFFLINE' : 'FAILED'));
      if (i % 5 === 0) await both((d) => d.heartbeat(registration.id, 5_000));
    }

    const status = await directory.hierarchyStatus(5_000, 2_500);
    expect(status.totalAgents).toBe(200);
    expect(Object.values(status.layers).map((layer) => layer.count)).toEqual([50, 50, 50, 50]);
    expect(status).toEqual(await memory.hierarchyStatus(5_000, 2_500));
    expect(await directory.list()).toEqual(await memory.list());
    expect(await directory.spawnedSince('research', 2_000)).toBe(await memory.spawnedSince('research', 2_000));
  });
});
