import { NotFoundError } from '../../errors.js';
import { byAgentId, summariseHierarchy } from '../hierarchy-summary.js';
import type { AgentStatus, SpecialtyGroup } from '../../domain/vocabulary.js';
import { groupOf, leadRoleOf } from '../../domain/vocabulary.js';
import { servesTenant } from '../../domain/agent-tenancy.js';
import type { AgentDirectory, AgentRecord, OutputRecord, WorkOutcome, WorkRecord } from '../../ports/agent-directory.port.js';
import { outputIdOf } from '../../domain/lineage.js';

export interface MemoryAgentDirectoryOptions {
  /** A cap on every agent's concurrent tasks, below its own capacity when smaller. */
  maxTasksPerAgent?: number;
}

/** Statuses someone set on purpose; the others follow the load. */
const explicitStatuses: readonly AgentStatus[] = ['FAILED', 'OFFLINE', 'MAINTENANCE'];

interface Entry {
  record: AgentRecord;
  explicit: AgentStatus | null;
  held: Set<string>;
  recorded: Set<string>;
  /** A frozen copy of `record` handed to readers, made again only after the record changed (assign asks for every candidate at every event). */
  view: AgentRecord | null;
}

const inGroup = (record: AgentRecord, group: SpecialtyGroup): boolean => record.specialties.some((specialty) => groupOf(specialty) === group);

export function createMemoryAgentDirectory(options: MemoryAgentDirectoryOptions = {}): AgentDirectory {
  const agents = new Map<string, Entry>();
  /** WORKED_ON edges, keyed `agent subtask`. */
  const work = new Map<string, WorkRecord & { agentId: string }>();
  /** The lineage: each subtask's workflow and DEPENDS_ON edges, and the outputs (PRODUCED) by id. */
  const subtasks = new Map<string, { workflowId: string; dependsOn: Set<string> }>();
  const outputs = new Map<string, OutputRecord & { workflowId: string }>();
  const subtaskOf = (id: string, workflowId: string) => {
    const known = subtasks.get(id) ?? { workflowId, dependsOn: new Set<string>() };
    subtasks.set(id, known);
    return known;
  };

  const capacityOf = (record: AgentRecord): number => Math.min(record.capacity, options.maxTasksPerAgent ?? Infinity);
  const byId = (a: Entry, b: Entry): number => byAgentId(a.record, b.record);
  const sorted = (): Entry[] => [...agents.values()].sort(byId);
  /** Each specialty's agents in id order, rebuilt after a registration: assign asks for candidates at every event. */
  let bySpecialty: Map<string, Entry[]> | null = null;
  const withSpecialty = (specialty: string): readonly Entry[] => {
    if (!bySpecialty) {
      bySpecialty = new Map();
      for (const entry of sorted()) {
        for (const held of new Set(entry.record.specialties)) {
          const list = bySpecialty.get(held) ?? [];
          list.push(entry);
          bySpecialty.set(held, list);
        }
      }
    }
    return bySpecialty.get(specialty) ?? [];
  };
  /** Each group's leads in id order, rebuilt after a registration like bySpecialty. */
  let leads: Map<SpecialtyGroup, Entry[]> | null = null;
  const leadsOf = (group: SpecialtyGroup): readonly Entry[] => {
    leads ??= new Map();
    let found = leads.get(group);
    if (!found) {
      found = sorted().filter(({ record }) => record.layer === 'MANAGEMENT' && record.role === leadRoleOf[group]);
      leads.set(group, found);
    }
    return found;
  };
  const copy = (record: AgentRecord): AgentRecord => ({ ...record, specialties: [...record.specialties] });
  const viewOf = (entry: Entry): AgentRecord => {
    entry.view ??= Object.freeze({ ...entry.record, specialties: Object.freeze([...entry.record.specialties]) as AgentRecord['specialties'] });
    return entry.view;
  };

  const refresh = (entry: Entry): void => {
    entry.view = null;
    const { record } = entry;
    record.load = entry.held.size;
    if (entry.explicit) record.status = entry.explicit;
    else if (record.load >= capacityOf(record)) record.status = 'OVERLOADED';
    else record.status = record.load >= 1 ? 'BUSY' : 'AVAILABLE';
  };

  const entryOf = (agentId: string): Entry => {
    const entry = agents.get(agentId);
    if (!entry) throw new NotFoundError(`agent ${agentId}`);
    return entry;
  };

  const recordOutcome = (record: AgentRecord, outcome: WorkOutcome): void => {
    if (outcome.success) {
      record.completed += 1;
      record.consecutiveFailures = 0;
    } else {
      record.failed += 1;
      record.consecutiveFailures += 1;
    }
    const n = record.completed + record.failed;
    record.averageQuality += (outcome.quality - record.averageQuality) / n;
    record.averageDurationMs += (outcome.durationMs - record.averageDurationMs) / n;
  };

  return {
    async register(agent, now) {
      const existing = agents.get(agent.id);
      // Re-registering (an agent restarting) keeps its track record and its reservations.
      const record: AgentRecord = existing
        ? { ...existing.record, ...agent, lastHeartbeat: now }
        : {
            ...agent,
            status: 'AVAILABLE',
            load: 0,
            completed: 0,
            failed: 0,
            consecutiveFailures: 0,
            averageQuality: 0,
            averageDurationMs: 0,
            lastHeartbeat: now,
            registeredAt: now,
          };
      // The registration decides the tenant, as the graph's SET does: re-registering without one makes the agent shared.
      if (agent.tenant === undefined) delete record.tenant;
      // A (re-)registering agent is alive: OFFLINE no longer holds; FAILED and MAINTENANCE are decisions and stay.
      const explicit = existing?.explicit === 'OFFLINE' ? null : (existing?.explicit ?? null);
      const entry: Entry = { record: copy(record), explicit, held: existing?.held ?? new Set(), recorded: existing?.recorded ?? new Set(), view: null };
      agents.set(agent.id, entry);
      bySpecialty = null;
      leads = null;
      refresh(entry);
      return copy(entry.record);
    },

    async get(agentId) {
      const entry = agents.get(agentId);
      return entry ? viewOf(entry) : null;
    },

    async list() {
      return sorted().map(viewOf);
    },

    async candidates(specialty, tenant) {
      return withSpecialty(specialty)
        .filter((entry) => servesTenant(entry.record, tenant))
        .map(viewOf);
    },

    async reserve(agentId, workKey) {
      const entry = agents.get(agentId);
      if (!entry) return false;
      if (entry.held.has(workKey)) return true;
      if (entry.explicit || entry.held.size >= capacityOf(entry.record)) return false;
      entry.held.add(workKey);
      refresh(entry);
      return true;
    },

    async release(agentId, workKey, outcome) {
      const entry = agents.get(agentId);
      if (!entry) return;
      entry.held.delete(workKey);
      if (outcome && !entry.recorded.has(workKey)) {
        entry.recorded.add(workKey);
        recordOutcome(entry.record, outcome);
      }
      refresh(entry);
    },

    async heldWork() {
      return [...agents.values()].flatMap(({ record, held }) => [...held].map((workKey) => ({ agentId: record.id, workKey })));
    },

    async heartbeat(agentId, now) {
      const entry = entryOf(agentId);
      entry.record.lastHeartbeat = now;
      entry.view = null;
      // A heartbeat proves the agent alive again: an OFFLINE verdict (e.g. from the recovery loop) lifts.
      if (entry.explicit === 'OFFLINE') {
        entry.explicit = null;
        refresh(entry);
      }
    },

    async setStatus(agentId, status) {
      const entry = entryOf(agentId);
      entry.explicit = explicitStatuses.includes(status) ? status : null;
      refresh(entry);
    },

    async spawnedSince(group, since) {
      return [...agents.values()].filter(({ record }) => record.registeredAt >= since && inGroup(record, group)).length;
    },

    async hierarchyStatus(now, heartbeatTimeoutMs) {
      return summariseHierarchy(
        sorted().map((entry) => entry.record),
        now,
        heartbeatTimeoutMs,
        capacityOf,
      );
    },

    async supervisorOf(agentId) {
      const supervisorId = agents.get(agentId)?.record.supervisorId;
      const boss = supervisorId ? agents.get(supervisorId) : undefined;
      return boss ? viewOf(boss) : null;
    },

    async leadFor(group) {
      // The leads in id order: the first of the least loaded, those with a status set on purpose last.
      const unset = (entry: Entry): boolean => entry.explicit === null;
      let best: Entry | undefined;
      for (const lead of leadsOf(group)) {
        if (!best || (unset(lead) && !unset(best)) || (unset(lead) === unset(best) && lead.record.load < best.record.load)) best = lead;
      }
      return best ? viewOf(best) : null;
    },

    async recordWork(agentId, subtaskId, workflowId, outcome, at = 0, lineage) {
      entryOf(agentId);
      const key = `${agentId} ${subtaskId}`;
      let created = false;
      if (!work.has(key)) {
        work.set(key, { agentId, subtaskId, workflowId, ...outcome, at });
        created = true;
      }
      if (!lineage) return created;
      const subtask = subtaskOf(subtaskId, workflowId);
      for (const dependency of lineage.dependsOn) {
        subtaskOf(dependency, workflowId);
        subtask.dependsOn.add(dependency);
      }
      const id = outputIdOf(subtaskId, lineage.attempt);
      if (lineage.produced && !outputs.has(id)) {
        outputs.set(id, { id, subtaskId, attempt: lineage.attempt, agentId, workflowId, ...outcome, at });
        created = true;
      }
      return created;
    },

    async lineageOf(workflowId) {
      const ids = [...subtasks]
        .filter(([, s]) => s.workflowId === workflowId)
        .map(([id]) => id)
        .sort();
      return {
        subtasks: ids.map((id) => ({ id, dependsOn: [...subtasks.get(id)!.dependsOn].sort() })),
        outputs: [...outputs.values()]
          .filter((o) => o.workflowId === workflowId)
          .sort((a, b) => (a.subtaskId < b.subtaskId ? -1 : a.subtaskId > b.subtaskId ? 1 : a.attempt - b.attempt))
          .map(({ workflowId: _workflow, ...output }) => output),
      };
    },

    async workOf(agentId) {
      return [...work.values()]
        .filter((w) => w.agentId === agentId)
        .sort((a, b) => a.at - b.at || a.subtaskId.localeCompare(b.subtaskId))
        .map(({ agentId: _agent, ...record }) => record);
    },

    async close() {},
  };
}
