import { routing } from 'neo4j-driver';
import type { Driver, RecordShape } from 'neo4j-driver';
import { NotFoundError } from '../../errors.js';
import type { SpecialtyGroup } from '../../domain/vocabulary.js';
import { groupOf, leadRoleOf } from '../../domain/vocabulary.js';
import { servesTenant } from '../../domain/agent-tenancy.js';
import type { AgentDirectory, AgentRecord, LineageRecord, WorkLineage, WorkOutcome, WorkRecord } from '../../ports/agent-directory.port.js';
import { outputIdOf } from '../../domain/lineage.js';
import * as q from './agent-queries.js';
import { explicitStatuses, toAgentRecord, toNumber } from './cypher.js';
import { byAgentId } from '../hierarchy-summary.js';
import { summariseHierarchy } from '../hierarchy-summary.js';
import { migrateAgentGraph } from './migrations.js';
import { createCandidateCache, type Versioned } from './candidate-cache.js';

export interface Neo4jAgentDirectoryOptions {
  /** A cap on every agent's concurrent tasks, below its own capacity when smaller. */
  maxTasksPerAgent?: number;
  /** The Neo4j database (default: the server's default database). */
  database?: string;
  /** Isolates this directory's nodes from other namespaces in the same database (default 'default'). */
  namespace?: string;
  /**
   * Serve `candidates` and `leadFor` from a read cache up to this many ms old (0 or absent: off).
   * This directory's own writes patch the cache at once; other processes' writes show within the
   * TTL. Safe because reserve re-checks status and capacity on the node itself: a stale candidate
   * at worst is refused and the next one is tried. Keep it below the heartbeat interval, so a
   * cached heartbeat is never old enough to make a live agent look lost.
   */
  cacheTtlMs?: number;
  /**
   * With the cache: a cached agent looks free only if it also heartbeated within this many ms (wall
   * clock; the assign handler's health rule), so a list whose free-looking agents are all lost is
   * read again rather than served until it expires.
   */
  cacheHeartbeatTimeoutMs?: number;
}

export type { WorkRecord };

/** The port plus what the graph answers well: who reports to whom, and who worked on what. */
export interface Neo4jAgentDirectory extends AgentDirectory {
  /** Creates the constraints and indexes (idempotent). Run once before first use. */
  migrate(): Promise<void>;
  /** The agent this one reports to (REPORTS_TO), or null. */
  supervisorOf(agentId: string): Promise<AgentRecord | null>;
  /** Agent ids from `agentId` up the REPORTS_TO chain to the top (just `[agentId]` without a supervisor). */
  reportingChain(agentId: string): Promise<string[]>;
  /** The group's management lead (role `<group>_team_lead`, see leadRoleOf), preferring an available one. */
  leadFor(group: SpecialtyGroup): Promise<AgentRecord | null>;
  /**
   * Records (agent)-[:WORKED_ON]->(subtask)-[:PART_OF]->(workflow) once; with lineage, the subtask's
   * DEPENDS_ON edges and its attempt's (:Output)-[:PRODUCED_BY]->(agent). False when already recorded.
   */
  recordWork(agentId: string, subtaskId: string, workflowId: string, outcome: WorkOutcome, at?: number, lineage?: WorkLineage): Promise<boolean>;
  lineageOf(workflowId: string): Promise<LineageRecord>;
  /** What the agent worked on, oldest first. */
  workOf(agentId: string): Promise<WorkRecord[]>;
  /** Deletes this namespace's agents, subtasks and workflows (not the shared Specialty vocabulary). */
  clear(): Promise<void>;
}

/**
 * AgentDirectory on Neo4j (Cypher over Bolt). The driver belongs to the caller: `close()` does not
 * close it. Every operation is one auto-retried query (`executeQuery`), so a deadlock between
 * concurrent reserves is retried by the driver, not surfaced.
 */
export function createNeo4jAgentDirectory(driver: Driver, options: Neo4jAgentDirectoryOptions = {}): Neo4jAgentDirectory {
  const ns = options.namespace ?? 'default';
  const cap = options.maxTasksPerAgent ?? Number.MAX_SAFE_INTEGER;
  const capacityOf = (record: AgentRecord): number => Math.min(record.capacity, cap);

  const run = async <T extends RecordShape>(query: string, params: Record<string, unknown>, write = true): Promise<T[]> => {
    const { records } = await driver.executeQuery(query, { ns, cap, ...params }, { database: options.database, routing: write ? routing.WRITE : routing.READ });
    return records.map((record) => record.toObject() as T);
  };
  const agents = async (query: string, params: Record<string, unknown>, write = false): Promise<AgentRecord[]> => {
    const rows = await run<{ agent: Record<string, unknown> }>(query, params, write);
    return rows.map((row) => toAgentRecord(row.agent));
  };
  const mustExist = (rows: unknown[], agentId: string): void => {
    if (rows.length === 0) throw new NotFoundError(`agent ${agentId}`);
  };
  // Callers get their own copies: a cached record is shared by every later answer.
  const copy = (record: AgentRecord): AgentRecord => ({ ...record, specialties: [...record.specialties] });
  type VersionedRow = { agent: Record<string, unknown>; rev: unknown };
  const versioned = (rows: VersionedRow[]): Versioned[] => rows.map((row) => ({ record: toAgentRecord(row.agent), rev: toNumber(row.rev) }));
  const cache = options.cacheTtlMs ? createCandidateCache({ ttlMs: options.cacheTtlMs }) : null;
  /** Runs a write that returns the agent it changed, and lets the cache see the answer. */
  const write = async <T extends VersionedRow>(query: string, params: Record<string, unknown>): Promise<T[]> => {
    const rows = await run<T>(query, params);
    if (cache) for (const row of versioned(rows)) cache.observe(row);
    return rows;
  };
  const fetchVersioned = (query: string, params: Record<string, unknown>) => async () => versioned(await run<VersionedRow>(query, params, false));
  // Someone in the list looks free: otherwise the list is re-read, so a stale list never turns "free elsewhere" into "no capacity".
  // The leadFor query's ORDER BY: one that can take work (no explicit status), then the least loaded, then by id.
  const leadOrder = (a: AgentRecord, b: AgentRecord): number =>
    Number(explicitStatuses.includes(a.status)) - Number(explicitStatuses.includes(b.status)) || a.load - b.load || byAgentId(a, b);
  const aliveAfter = (): number => (options.cacheHeartbeatTimeoutMs === undefined ? -Infinity : Date.now() - options.cacheHeartbeatTimeoutMs);
  const someoneFree = (records: AgentRecord[]): boolean => {
    const since = aliveAfter();
    return records.some((r) => (r.status === 'AVAILABLE' || r.status === 'BUSY') && r.lastHeartbeat >= since);
  };

  return {
    migrate: () => migrateAgentGraph(driver, options.database),

    async register(agent, now) {
      const specialtyNodes = agent.specialties.map((name) => ({ name, group: groupOf(name) }));
      const params = { ...agent, role: agent.role ?? null, supervisorId: agent.supervisorId ?? null, tenant: agent.tenant ?? null, specialtyNodes, now };
      const [row] = versioned(await run<VersionedRow>(q.registerAgent, params));
      if (!row) throw new Error(`registering agent ${agent.id} returned nothing`);
      cache?.invalidate();
      cache?.observe(row);
      return row.record;
    },

    async get(agentId) {
      const [record] = await agents(q.getAgent, { id: agentId });
      return record ?? null;
    },

    async list() {
      return (await agents(q.listAgents, {})).sort(byAgentId);
    },

    async candidates(specialty, tenant) {
      // One list per specialty for every tenant, filtered here: a tenant's pool is usually a few agents among the shared ones.
      const fetch = fetchVersioned(q.candidatesFor, { specialty });
      const mine = (records: AgentRecord[]) => records.filter((r) => servesTenant(r, tenant));
      const records = cache
        ? await cache.read(`candidates:${specialty}`, fetch, (cached) => someoneFree(mine(cached)))
        : (await fetch()).map((row) => row.record);
      return mine(records).map(copy).sort(byAgentId);
    },

    async reserve(agentId, workKey) {
      const rows = await write<VersionedRow & { granted: boolean }>(q.reserveSlot, { id: agentId, key: workKey });
      return rows[0]?.granted ?? false;
    },

    async release(agentId, workKey, outcome) {
      await write(q.releaseSlot, { id: agentId, key: workKey, outcome: outcome ?? null });
    },

    async heldWork() {
      // Primary routing (run's default): a slot reserved a moment ago must show.
      return run<{ agentId: string; workKey: string }>(q.heldWork, {});
    },

    async heartbeat(agentId, now) {
      mustExist(await write(q.heartbeat, { id: agentId, now }), agentId);
    },

    async setStatus(agentId, status) {
      const explicit = explicitStatuses.includes(status) ? status : null;
      mustExist(await write(q.setStatus, { id: agentId, explicit }), agentId);
    },

    async spawnedSince(group, since) {
      const [row] = await run<{ n: unknown }>(q.spawnedSince, { group, since }, false);
      return toNumber(row?.n);
    },

    async hierarchyStatus(now, heartbeatTimeoutMs) {
      return summariseHierarchy(await agents(q.listAgents, {}), now, heartbeatTimeoutMs, capacityOf);
    },

    async supervisorOf(agentId) {
      const [record] = await agents(q.supervisorOf, { id: agentId });
      return record ?? null;
    },

    async reportingChain(agentId) {
      const [row] = await run<{ chain: string[] }>(q.reportingChain, { id: agentId }, false);
      return row?.chain ?? [];
    },

    async leadFor(group) {
      if (!cache) return (await agents(q.leadFor, { role: leadRoleOf[group] }))[0] ?? null;
      const [best] = (await cache.read(`leads:${group}`, fetchVersioned(q.leadsFor, { role: leadRoleOf[group] }))).sort(leadOrder);
      return best ? copy(best) : null;
    },

    async recordWork(agentId, subtaskId, workflowId, outcome, at = Date.now(), lineage) {
      const outputId = lineage?.produced ? outputIdOf(subtaskId, lineage.attempt) : null;
      const params = {
        id: agentId,
        subtaskId,
        workflowId,
        outcome,
        at,
        dependsOn: [...(lineage?.dependsOn ?? [])],
        outputId,
        attempt: lineage?.attempt ?? null,
      };
      const rows = await run<{ created: boolean }>(q.recordWork, params);
      mustExist(rows, agentId);
      return rows[0]?.created ?? false;
    },

    async lineageOf(workflowId) {
      const rows = await run<{ id: string; dependsOn: string[]; outputs: Record<string, unknown>[] }>(q.lineageOf, { workflowId }, false);
      return {
        subtasks: rows.map((row) => ({ id: row.id, dependsOn: [...row.dependsOn].sort() })),
        outputs: rows.flatMap((row) =>
          row.outputs.map((o) => ({
            id: String(o.id),
            subtaskId: String(o.subtaskId),
            attempt: toNumber(o.attempt),
            agentId: String(o.agentId),
            success: Boolean(o.success),
            quality: toNumber(o.quality),
            durationMs: toNumber(o.durationMs),
            at: toNumber(o.at),
          })),
        ),
      };
    },

    async workOf(agentId) {
      const rows = await run<Record<string, unknown>>(q.workOf, { id: agentId }, false);
      return rows.map((row) => ({
        subtaskId: String(row.subtaskId),
        workflowId: String(row.workflowId),
        success: Boolean(row.success),
        quality: toNumber(row.quality),
        durationMs: toNumber(row.durationMs),
        at: toNumber(row.at),
      }));
    },

    async clear() {
      await run(q.clearNamespace, {});
      cache?.clear();
    },

    async close() {},
  };
}
